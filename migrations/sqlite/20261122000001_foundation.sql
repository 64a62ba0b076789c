-- The foundation: node metadata, the Directory, and the change log.
-- Instants are microseconds since the Unix epoch, UTC.

CREATE TABLE node_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY NOT NULL,
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
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX organizations_kind_slug ON organizations (kind, slug);
CREATE INDEX organizations_city_slug ON organizations (city_folded, slug);

CREATE TABLE people (
    id           TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    email        TEXT CONSTRAINT people_email_key UNIQUE,
    operator     INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
-- One operator per node.
CREATE UNIQUE INDEX people_single_operator ON people (operator) WHERE operator = 1;

CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    person_id  TEXT NOT NULL REFERENCES people (id),
    role       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, person_id)
);
CREATE INDEX memberships_person ON memberships (person_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    person_id   TEXT NOT NULL REFERENCES people (id),
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL CONSTRAINT api_tokens_secret_hash_key UNIQUE,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX api_tokens_person ON api_tokens (person_id, created_at);

CREATE TABLE change_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    operation   TEXT NOT NULL,
    org_id      TEXT,
    payload     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX change_log_created_at ON change_log (created_at);
