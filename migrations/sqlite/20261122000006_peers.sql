-- Pinned peers: other nodes this node federates with, by the fingerprint
-- of their key, with the descriptor they last proved they hold it with.

CREATE TABLE peers (
    node_id        TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    url            TEXT NOT NULL,
    public_key     TEXT NOT NULL,
    organizations  TEXT NOT NULL,
    added_at       INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
