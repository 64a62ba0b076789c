-- Writers append to the change log without taking a lock: each inserts its
-- entries here, in its own transaction, and after committing numbers every
-- committed entry into change_log in one pass (one pass at a time, under
-- the log's advisory lock). A sequence is thus given only to an entry
-- already committed, and always above every sequence given before: a
-- reader that has seen entry N never finds a new entry below N later.
CREATE TABLE change_log_pending (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    version     BIGINT NOT NULL,
    operation   TEXT NOT NULL,
    org_id      TEXT,
    payload     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    also_org_id TEXT,
    shared      BIGINT NOT NULL,
    -- The organizations the entry also concerns, comma-separated.
    audience    TEXT NOT NULL
);
