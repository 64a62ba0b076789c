-- Network agreements: the aggregate with its lifecycle, its versions (the
-- document each party signs, stored exactly as hashed), the signatures,
-- the history of transitions, and which organizations are parties.

CREATE TABLE agreements (
    id                TEXT PRIMARY KEY NOT NULL,
    initiator_id      TEXT NOT NULL REFERENCES organizations (id),
    kind              TEXT NOT NULL,
    state             TEXT NOT NULL,
    number            TEXT,
    title             TEXT NOT NULL,
    time_zone         TEXT NOT NULL,
    lifecycle         TEXT NOT NULL,
    -- When the term in force ends; for "expiring within N days".
    ends_at           INTEGER,
    -- When time next changes the state; the lifecycle worker's index.
    next_due          INTEGER,
    revision          INTEGER NOT NULL,
    history_seq       INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX agreements_due ON agreements (next_due) WHERE next_due IS NOT NULL;
CREATE INDEX agreements_ends ON agreements (ends_at) WHERE ends_at IS NOT NULL;

CREATE TABLE agreement_parties (
    agreement_id  TEXT NOT NULL REFERENCES agreements (id),
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    -- A party to the version in force (bookings under the agreement, access).
    in_force      INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, org_id)
);
CREATE INDEX agreement_parties_org ON agreement_parties (org_id, in_force);

CREATE TABLE agreement_versions (
    agreement_id  TEXT NOT NULL REFERENCES agreements (id),
    version       INTEGER NOT NULL,
    -- The content as JSON while a draft; once proposed, the canonical
    -- document whose SHA-256 is content_hash.
    document      TEXT NOT NULL,
    content_hash  TEXT,
    proposed_at   INTEGER,
    declined      TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, version)
);

CREATE TABLE agreement_signatures (
    agreement_id  TEXT NOT NULL,
    version       INTEGER NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    person_id     TEXT NOT NULL,
    signatory     TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    signed_at     INTEGER NOT NULL,
    node_id       TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    signature     TEXT NOT NULL,
    PRIMARY KEY (agreement_id, version, org_id),
    FOREIGN KEY (agreement_id, version) REFERENCES agreement_versions (agreement_id, version)
);

CREATE TABLE agreement_history (
    agreement_id  TEXT NOT NULL REFERENCES agreements (id),
    seq           INTEGER NOT NULL,
    action        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    state         TEXT NOT NULL,
    actor         TEXT NOT NULL,
    org_id        TEXT,
    comment       TEXT NOT NULL,
    at            INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, seq)
);

-- Change-log entries that concern more organizations than org_id and
-- also_org_id: an agreement's entries reach every party.
CREATE TABLE change_log_audience (
    seq     INTEGER NOT NULL,
    org_id  TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);

CREATE INDEX bookings_agreement ON bookings (agreement_id) WHERE agreement_id IS NOT NULL;
CREATE INDEX activities_agreement ON activities (agreement_id) WHERE agreement_id IS NOT NULL;
