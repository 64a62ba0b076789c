-- Booking of labs, rooms, equipment and specialists. A booking request has
-- one or more occurrences; confirmed and held occurrences of one resource
-- never overlap, their buffer included (block_end = end + buffer).

CREATE TABLE resources (
    id            TEXT PRIMARY KEY NOT NULL,
    owner_id      TEXT NOT NULL REFERENCES organizations (id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    capacity      INTEGER,
    features_key  TEXT NOT NULL,
    access        TEXT NOT NULL,
    details       TEXT NOT NULL,
    blackouts     TEXT NOT NULL,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX resources_owner ON resources (owner_id);

CREATE TABLE bookings (
    id                TEXT PRIMARY KEY NOT NULL,
    resource_id       TEXT NOT NULL REFERENCES resources (id),
    requester_org_id  TEXT NOT NULL REFERENCES organizations (id),
    requester_id      TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    headcount         INTEGER NOT NULL,
    activity_id       TEXT,
    agreement_id      TEXT,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX bookings_resource ON bookings (resource_id);
CREATE INDEX bookings_requester ON bookings (requester_org_id);

CREATE TABLE booking_occurrences (
    booking_id       TEXT NOT NULL REFERENCES bookings (id),
    resource_id      TEXT NOT NULL REFERENCES resources (id),
    start_at         INTEGER NOT NULL,
    end_at           INTEGER NOT NULL,
    block_end        INTEGER NOT NULL,
    state            TEXT NOT NULL,
    hold_expires_at  INTEGER,
    note             TEXT,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (booking_id, start_at)
);
CREATE INDEX booking_occurrences_resource ON booking_occurrences (resource_id, start_at);
