-- The calendar: activities, their expanded occurrences with seat counts,
-- and cohort registrations. Details are JSON; the columns beside them are
-- what queries filter on.

CREATE TABLE activities (
    id              TEXT PRIMARY KEY NOT NULL,
    publisher_id    TEXT NOT NULL REFERENCES organizations (id),
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
    seats_version   INTEGER NOT NULL,
    next_position   INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX activities_publisher ON activities (publisher_id);

CREATE TABLE occurrences (
    activity_id     TEXT NOT NULL REFERENCES activities (id),
    occurrence_key  INTEGER NOT NULL,
    start_at        INTEGER NOT NULL,
    end_at          INTEGER NOT NULL,
    cancelled       INTEGER NOT NULL,
    moved           INTEGER NOT NULL,
    seats_taken     INTEGER NOT NULL,
    -- Longer than a day: a window query finds these by their end.
    long_running    INTEGER NOT NULL,
    PRIMARY KEY (activity_id, occurrence_key)
);
CREATE INDEX occurrences_start ON occurrences (start_at, activity_id, occurrence_key);
CREATE INDEX occurrences_long ON occurrences (end_at) WHERE long_running = 1;

CREATE TABLE registrations (
    id              TEXT PRIMARY KEY NOT NULL,
    activity_id     TEXT NOT NULL REFERENCES activities (id),
    occurrence_key  INTEGER,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    state           TEXT NOT NULL,
    position        INTEGER NOT NULL,
    headcount       INTEGER NOT NULL,
    cohort          TEXT NOT NULL,
    results         TEXT,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX registrations_activity ON registrations (activity_id, state, position);
CREATE INDEX registrations_org ON registrations (org_id, created_at);

-- Change-log entries that concern a second organization (a registration
-- concerns the activity's publisher and the registering school), and
-- entries every member of the network may read (public and network-wide
-- activities and their seat counts).
ALTER TABLE change_log ADD COLUMN also_org_id TEXT;
ALTER TABLE change_log ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
