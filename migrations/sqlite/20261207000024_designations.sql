-- Designations: an organization's standing in the network (resource
-- centre, base site, innovation site), kept whole as JSON beside the
-- columns searches select on. An organization's own have origin '';
-- those its peers share have the peer's node id.

CREATE TABLE designations (
    origin       TEXT NOT NULL,
    id           TEXT NOT NULL,
    org_id       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    field_folded TEXT NOT NULL,
    valid_from   TEXT,
    valid_until  TEXT,
    record       TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (origin, id)
);
CREATE INDEX designations_org ON designations (org_id);
CREATE INDEX designations_kind ON designations (kind, org_id);
