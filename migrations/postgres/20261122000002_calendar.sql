-- The calendar: activities, their expanded occurrences with seat counts,
-- and cohort registrations. Details are JSON; the columns beside them are
-- what queries filter on.

CREATE TABLE activities (
    id              TEXT PRIMARY KEY,
    publisher_id    TEXT NOT NULL REFERENCES organizations (id),
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
    seats_version   BIGINT NOT NULL,
    next_position   BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX activities_publisher ON activities (publisher_id);

CREATE TABLE occurrences (
    activity_id     TEXT NOT NULL REFERENCES activities (id),
    occurrence_key  BIGINT NOT NULL,
    start_at        BIGINT NOT NULL,
    end_at          BIGINT NOT NULL,
    cancelled       BIGINT NOT NULL,
    moved           BIGINT NOT NULL,
    seats_taken     BIGINT NOT NULL,
    -- Longer than a day: a window query finds these by their end.
    long_running    BIGINT NOT NULL,
    PRIMARY KEY (activity_id, occurrence_key)
);
CREATE INDEX occurrences_start ON occurrences (start_at, activity_id, occurrence_key);
CREATE INDEX occurrences_long ON occurrences (end_at) WHERE long_running = 1;

CREATE TABLE registrations (
    id              TEXT PRIMARY KEY,
    activity_id     TEXT NOT NULL REFERENCES activities (id),
    occurrence_key  BIGINT,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    state           TEXT NOT NULL,
    position        BIGINT NOT NULL,
    headcount       BIGINT NOT NULL,
    cohort          TEXT NOT NULL,
    results         TEXT,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX registrations_activity ON registrations (activity_id, state, position);
CREATE INDEX registrations_org ON registrations (org_id, created_at);

-- Change-log entries that concern a second organization (a registration
-- concerns the activity's publisher and the registering school), and
-- entries every member of the network may read (public and network-wide
-- activities and their seat counts).
ALTER TABLE change_log ADD COLUMN also_org_id TEXT;
ALTER TABLE change_log ADD COLUMN shared BIGINT NOT NULL DEFAULT 0;
