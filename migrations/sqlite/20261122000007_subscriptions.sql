-- Subscriptions to peers' change logs, and the mirrors they fill: the
-- latest signed entry of every record a peer shares, marked with its origin.

CREATE TABLE subscriptions (
    peer_id       TEXT PRIMARY KEY NOT NULL,
    kinds         TEXT NOT NULL,
    cursor        INTEGER NOT NULL,
    latest_seen   INTEGER NOT NULL,
    connected     INTEGER NOT NULL,
    last_error    TEXT,
    last_contact  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE mirrors (
    origin       TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    operation    TEXT NOT NULL,
    org_id       TEXT,
    payload      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    PRIMARY KEY (origin, entity_kind, entity_id)
);
CREATE INDEX mirrors_kind ON mirrors (entity_kind, origin);
