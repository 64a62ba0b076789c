-- Reports: the enrolment an organization states for each school year (the
-- denominator of network-form coverage), and the targets set for the
-- network's indicators.

CREATE TABLE enrolments (
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    -- The year the school year starts in: 2025 is 2025/26.
    school_year  BIGINT NOT NULL,
    students     BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, school_year)
);

CREATE TABLE report_targets (
    indicator   TEXT NOT NULL,
    -- "org:<id>", "city:<folded name>" or "network".
    scope       TEXT NOT NULL,
    -- YYYY-MM-DD.
    due         TEXT NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    note        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (indicator, scope, due)
);

-- Reports read the booked time of every resource in a period.
CREATE INDEX booking_occurrences_start ON booking_occurrences (start_at) WHERE state = 'confirmed';
