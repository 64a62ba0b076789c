-- Private iCalendar feeds: calendar apps cannot send a bearer token, so a
-- token's feeds live at a secret URL. The key is derived from the token's
-- hash (it adds nothing a reader of this table could not compute) and dies
-- with the token.
ALTER TABLE api_tokens ADD COLUMN feed_key TEXT;
CREATE UNIQUE INDEX api_tokens_feed_key ON api_tokens (feed_key);
