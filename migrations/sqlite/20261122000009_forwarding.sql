-- Organizations hosted on pinned peers, known here so that a forwarded write
-- (a registration, a booking request, an agreement party) can name them.
-- `home_node` is the peer that hosts one; NULL for this node's own.
ALTER TABLE organizations ADD COLUMN home_node TEXT;
CREATE INDEX organizations_home_node ON organizations (home_node);

-- Writes forwarded by a peer, by the idempotency key it sent: a retried
-- forward gets the stored answer instead of having its effect again.
CREATE TABLE forwarded_writes (
    node_id     TEXT NOT NULL,
    idem_key    TEXT NOT NULL,
    method      TEXT NOT NULL,
    response    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (node_id, idem_key)
);

-- Compaction keeps the latest entry of every record, so the retained log is
-- a snapshot for a reader whose cursor expired; finding the superseded
-- entries needs the log by record.
CREATE INDEX change_log_entity ON change_log (entity_kind, entity_id, seq);
