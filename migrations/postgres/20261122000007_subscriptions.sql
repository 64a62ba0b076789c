-- Subscriptions to peers' change logs, and the mirrors they fill: the
-- latest signed entry of every record a peer shares, marked with its origin.

CREATE TABLE subscriptions (
    peer_id       TEXT PRIMARY KEY,
    kinds         TEXT NOT NULL,
    cursor        BIGINT NOT NULL,
    latest_seen   BIGINT NOT NULL,
    connected     BIGINT NOT NULL,
    last_error    TEXT,
    last_contact  BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE mirrors (
    origin       TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    version      BIGINT NOT NULL,
    operation    TEXT NOT NULL,
    org_id       TEXT,
    payload      TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    PRIMARY KEY (origin, entity_kind, entity_id)
);
CREATE INDEX mirrors_kind ON mirrors (entity_kind, origin);
