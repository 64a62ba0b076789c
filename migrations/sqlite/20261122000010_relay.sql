-- A subscription may follow an origin's records as relayed by a pinned
-- peer (`via`) that mirrors them: a regional hub follows a school's node
-- through the city hub. The origin itself need not be pinned; each relayed
-- entry carries its origin's public key, whose SHA-256 is the origin's id.
ALTER TABLE subscriptions ADD COLUMN via TEXT;
