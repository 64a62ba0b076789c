-- Teachers' professional growth as each organization states it per
-- school year (its first calendar year): counts only, like enrolment.
CREATE TABLE teacher_figures (
    org_id               TEXT NOT NULL REFERENCES organizations (id),
    school_year          BIGINT NOT NULL,
    teachers             BIGINT NOT NULL,
    young_teachers       BIGINT NOT NULL,
    courses              BIGINT NOT NULL,
    course_hours         BIGINT NOT NULL,
    internships          BIGINT NOT NULL,
    seminars             BIGINT NOT NULL,
    association_members  BIGINT NOT NULL,
    growth_system        BIGINT NOT NULL,
    actor                TEXT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (org_id, school_year)
);
