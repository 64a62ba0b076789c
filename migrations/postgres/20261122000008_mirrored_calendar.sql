-- Mirrored activities, materialized from the mirrors of peers' entries in
-- the same shape as the node's own, so the calendar's queries read both.
-- Read-only: only the subscription that follows their origin writes them.

CREATE TABLE mirror_activities (
    id              TEXT PRIMARY KEY,
    origin          TEXT NOT NULL,
    publisher_id    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    direction       TEXT,
    format          TEXT NOT NULL,
    visibility      TEXT NOT NULL,
    status          TEXT NOT NULL,
    grade_min       BIGINT,
    grade_max       BIGINT,
    subjects_key    TEXT NOT NULL,
    agreement_id    TEXT,
    capacity        BIGINT,
    search_text     TEXT NOT NULL,
    details         TEXT NOT NULL,
    overrides       TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX mirror_activities_origin ON mirror_activities (origin);

CREATE TABLE mirror_occurrences (
    activity_id     TEXT NOT NULL,
    occurrence_key  BIGINT NOT NULL,
    start_at        BIGINT NOT NULL,
    end_at          BIGINT NOT NULL,
    cancelled       BIGINT NOT NULL,
    moved           BIGINT NOT NULL,
    seats_taken     BIGINT NOT NULL,
    long_running    BIGINT NOT NULL,
    PRIMARY KEY (activity_id, occurrence_key)
);
CREATE INDEX mirror_occurrences_start ON mirror_occurrences (start_at, activity_id, occurrence_key);
CREATE INDEX mirror_occurrences_long ON mirror_occurrences (end_at) WHERE long_running = 1;
