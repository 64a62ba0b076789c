-- The foundation: node metadata, the Directory, and the change log.
-- Instants are microseconds since the Unix epoch, UTC, as on SQLite, so both
-- backends share one set of queries.

CREATE TABLE node_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL CONSTRAINT organizations_slug_key UNIQUE,
    kind        TEXT NOT NULL,
    full_name   TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    city        TEXT NOT NULL,
    city_folded TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    contacts    TEXT NOT NULL,
    inn         TEXT,
    search_text TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX organizations_kind_slug ON organizations (kind, slug);
CREATE INDEX organizations_city_slug ON organizations (city_folded, slug);

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    email        TEXT CONSTRAINT people_email_key UNIQUE,
    operator     BIGINT NOT NULL DEFAULT 0,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
-- One operator per node.
CREATE UNIQUE INDEX people_single_operator ON people (operator) WHERE operator = 1;

CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    person_id  TEXT NOT NULL REFERENCES people (id),
    role       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, person_id)
);
CREATE INDEX memberships_person ON memberships (person_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES people (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL CONSTRAINT api_tokens_secret_hash_key UNIQUE,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_person ON api_tokens (person_id, created_at);

-- Sequences are handed out under a transaction-level advisory lock (see
-- edufed-store's change module), so they commit in order and a reader that
-- has seen sequence N has seen every committed entry before it.
CREATE TABLE change_log (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    version     BIGINT NOT NULL,
    operation   TEXT NOT NULL,
    org_id      TEXT,
    payload     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX change_log_created_at ON change_log (created_at);
