-- Teachers' professional growth as each organization states it per
-- school year (its first calendar year): counts only, like enrolment.
CREATE TABLE teacher_figures (
    org_id               TEXT NOT NULL REFERENCES organizations (id),
    school_year          INTEGER NOT NULL,
    teachers             INTEGER NOT NULL,
    young_teachers       INTEGER NOT NULL,
    courses              INTEGER NOT NULL,
    course_hours         INTEGER NOT NULL,
    internships          INTEGER NOT NULL,
    seminars             INTEGER NOT NULL,
    association_members  INTEGER NOT NULL,
    growth_system        INTEGER NOT NULL,
    actor                TEXT NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (org_id, school_year)
);
