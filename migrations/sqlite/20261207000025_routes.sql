-- Individual learning routes: a school's templates per profile and grade,
-- and routes assigned to its cohorts. Kept whole as JSON (the domain's
-- types) beside the columns listings select on; never shared.

CREATE TABLE route_templates (
    id           TEXT PRIMARY KEY NOT NULL,
    school_id    TEXT NOT NULL REFERENCES organizations (id),
    school_year  INTEGER NOT NULL,
    grade        INTEGER NOT NULL,
    record       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX route_templates_school ON route_templates (school_id, school_year);

CREATE TABLE routes (
    id           TEXT PRIMARY KEY NOT NULL,
    school_id    TEXT NOT NULL REFERENCES organizations (id),
    template_id  TEXT NOT NULL REFERENCES route_templates (id),
    school_year  INTEGER NOT NULL,
    grade        INTEGER NOT NULL,
    state        TEXT NOT NULL,
    record       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX routes_school ON routes (school_id, school_year);
CREATE INDEX routes_template ON routes (template_id);
