-- Booking of labs, rooms, equipment and specialists. A booking request has
-- one or more occurrences; confirmed and held occurrences of one resource
-- never overlap, their buffer included (block_end = end + buffer).

CREATE TABLE resources (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL REFERENCES organizations (id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    capacity      BIGINT,
    features_key  TEXT NOT NULL,
    access        TEXT NOT NULL,
    details       TEXT NOT NULL,
    blackouts     TEXT NOT NULL,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX resources_owner ON resources (owner_id);

CREATE TABLE bookings (
    id                TEXT PRIMARY KEY,
    resource_id       TEXT NOT NULL REFERENCES resources (id),
    requester_org_id  TEXT NOT NULL REFERENCES organizations (id),
    requester_id      TEXT NOT NULL,
    purpose           TEXT NOT NULL,
    headcount         BIGINT NOT NULL,
    activity_id       TEXT,
    agreement_id      TEXT,
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX bookings_resource ON bookings (resource_id);
CREATE INDEX bookings_requester ON bookings (requester_org_id);

CREATE TABLE booking_occurrences (
    booking_id       TEXT NOT NULL REFERENCES bookings (id),
    resource_id      TEXT NOT NULL REFERENCES resources (id),
    start_at         BIGINT NOT NULL,
    end_at           BIGINT NOT NULL,
    block_end        BIGINT NOT NULL,
    state            TEXT NOT NULL,
    hold_expires_at  BIGINT,
    note             TEXT,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (booking_id, start_at)
);
CREATE INDEX booking_occurrences_resource ON booking_occurrences (resource_id, start_at);

-- The invariant, held by the database itself: no two blocking occurrences
-- of one resource overlap. btree_gist lets the constraint compare ids.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_occurrences
    ADD CONSTRAINT booking_occurrences_no_overlap
    EXCLUDE USING gist (resource_id WITH =, int8range(start_at, block_end) WITH &&)
    WHERE (state IN ('confirmed', 'held'));
