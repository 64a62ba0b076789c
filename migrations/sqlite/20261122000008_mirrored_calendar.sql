-- Mirrored activities, materialized from the mirrors of peers' entries in
-- the same shape as the node's own, so the calendar's queries read both.
-- Read-only: only the subscription that follows their origin writes them.

CREATE TABLE mirror_activities (
    id              TEXT PRIMARY KEY NOT NULL,
    origin          TEXT NOT NULL,
    publisher_id    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    direction       TEXT,
    format          TEXT NOT NULL,
    visibility      TEXT NOT NULL,
    status          TEXT NOT NULL,
    grade_min       INTEGER,
    grade_max       INTEGER,
    subjects_key    TEXT NOT NULL,
    agreement_id    TEXT,
    capacity        INTEGER,
    search_text     TEXT NOT NULL,
    details         TEXT NOT NULL,
    overrides       TEXT NOT NULL,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX mirror_activities_origin ON mirror_activities (origin);

CREATE TABLE mirror_occurrences (
    activity_id     TEXT NOT NULL,
    occurrence_key  INTEGER NOT NULL,
    start_at        INTEGER NOT NULL,
    end_at          INTEGER NOT NULL,
    cancelled       INTEGER NOT NULL,
    moved           INTEGER NOT NULL,
    seats_taken     INTEGER NOT NULL,
    long_running    INTEGER NOT NULL,
    PRIMARY KEY (activity_id, occurrence_key)
);
CREATE INDEX mirror_occurrences_start ON mirror_occurrences (start_at, activity_id, occurrence_key);
CREATE INDEX mirror_occurrences_long ON mirror_occurrences (end_at) WHERE long_running = 1;
