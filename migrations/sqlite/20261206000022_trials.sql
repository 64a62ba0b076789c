-- Professional trials: a host's programme, reviewed before it enters the
-- network's bank. Kept whole as JSON (the domain's type) beside the
-- columns the bank's searches select on.

CREATE TABLE trials (
    id           TEXT PRIMARY KEY NOT NULL,
    host_id      TEXT NOT NULL REFERENCES organizations (id),
    state        TEXT NOT NULL,
    direction    TEXT,
    grade_min    INTEGER NOT NULL,
    grade_max    INTEGER NOT NULL,
    search_text  TEXT NOT NULL,
    record       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX trials_host ON trials (host_id);
CREATE INDEX trials_state ON trials (state);
