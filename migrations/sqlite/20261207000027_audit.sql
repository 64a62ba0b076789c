-- The audit trail: an entry per record written, kept for its own retention
-- (change-log compaction does not touch it).
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    at           BIGINT NOT NULL,
    method       TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    version      BIGINT,
    operation    TEXT NOT NULL,
    org_id       TEXT,
    also_org_id  TEXT,
    audience     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    -- The name of a person a peer node acted for, as it sent it.
    acting_name  TEXT,
    credential   TEXT,
    via_node     TEXT,
    forwarded_to TEXT,
    address      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_record ON audit_log (entity_id);
CREATE INDEX audit_log_org ON audit_log (org_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
