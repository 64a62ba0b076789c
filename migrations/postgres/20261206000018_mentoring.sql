-- Mentoring programmes, the pairs and groups in them, and their
-- assessments at checkpoints. A record is kept whole as JSON (the
-- domain's types), with the columns its queries select on. A pupil in a
-- pair is only a code, and only on the node of the pupil's school; the
-- change log carries a pair's shared view, never its people.

CREATE TABLE mentoring_programmes (
    id              TEXT PRIMARY KEY,
    owner_id        TEXT NOT NULL REFERENCES organizations (id),
    coordinator_id  TEXT NOT NULL REFERENCES people (id),
    record          TEXT NOT NULL,
    version         BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX mentoring_programmes_owner ON mentoring_programmes (owner_id);

-- The organizations taking part in a programme: its owner and partners.
CREATE TABLE mentoring_programme_orgs (
    programme_id  TEXT NOT NULL REFERENCES mentoring_programmes (id),
    org_id        TEXT NOT NULL,
    PRIMARY KEY (programme_id, org_id)
);
CREATE INDEX mentoring_programme_orgs_org ON mentoring_programme_orgs (org_id);

CREATE TABLE mentoring_pairs (
    id            TEXT PRIMARY KEY,
    programme_id  TEXT NOT NULL REFERENCES mentoring_programmes (id),
    owner_id      TEXT NOT NULL,
    state         TEXT NOT NULL,
    record        TEXT NOT NULL,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX mentoring_pairs_programme ON mentoring_pairs (programme_id);

CREATE TABLE mentoring_assessments (
    id          TEXT PRIMARY KEY,
    pair_id     TEXT NOT NULL REFERENCES mentoring_pairs (id),
    record      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX mentoring_assessments_pair ON mentoring_assessments (pair_id, created_at);
