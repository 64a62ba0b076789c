-- How many times a node has read a followed peer's records again from a
-- snapshot (the peer was restored from a backup, or compacted past the
-- node's cursor), dropping the copies the snapshot no longer held. A node
-- that follows the peer through this one as a relay keeps the generation
-- its copies are in step with, and reads the relay's copy again when the
-- relay's has moved on.
ALTER TABLE subscriptions ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
