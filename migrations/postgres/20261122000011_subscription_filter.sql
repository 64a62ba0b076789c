-- A subscription's filter of activities (publishers, directions, grades,
-- visibility) as JSON; NULL keeps every activity the peer shares.
ALTER TABLE subscriptions ADD COLUMN activity_filter TEXT;
