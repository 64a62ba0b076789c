-- Background work that runs once across a node's replicas (on one
-- PostgreSQL database): who holds it, until when, and its term, raised at
-- every change of holder.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    term       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- Every term, so that operators see which replica held the work when.
CREATE TABLE lease_terms (
    name       TEXT NOT NULL,
    term       BIGINT NOT NULL,
    holder     TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (name, term)
);
