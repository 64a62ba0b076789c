-- People sign in to the web console with a one-time link, which starts a
-- session kept here; the browser holds only the session's secret. Neither
-- is a record of the network: they never enter the change log.
CREATE TABLE sign_in_links (
    id          TEXT PRIMARY KEY NOT NULL,
    person_id   TEXT NOT NULL REFERENCES people (id),
    issued_by   TEXT,
    secret_hash TEXT NOT NULL CONSTRAINT sign_in_links_secret_hash_key UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX sign_in_links_person ON sign_in_links (person_id);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    person_id       TEXT NOT NULL REFERENCES people (id),
    secret_hash     TEXT NOT NULL CONSTRAINT sessions_secret_hash_key UNIQUE,
    origin          TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT
);
CREATE INDEX sessions_person ON sessions (person_id, started_at);
