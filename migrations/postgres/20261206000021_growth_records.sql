-- Teachers' professional growth by person, for those who agreed: the
-- agreement (one per person and organization; withdrawing it erases the
-- person's records there) and the records. Kept on the organization's
-- node only: never in the change log.

CREATE TABLE growth_consents (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    person_id  TEXT NOT NULL REFERENCES people (id),
    given_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, person_id)
);

CREATE TABLE growth_records (
    id          TEXT PRIMARY KEY NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    person_id   TEXT NOT NULL REFERENCES people (id),
    kind        TEXT NOT NULL,
    on_date     TEXT NOT NULL,
    record      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX growth_records_org ON growth_records (org_id, on_date);
CREATE INDEX growth_records_person ON growth_records (person_id, org_id);
