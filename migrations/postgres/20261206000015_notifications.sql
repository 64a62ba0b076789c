-- Notifications: what each person wants to be told, and an outbox the
-- notifier fills from the node's own change log (its cursor moves in the
-- same transaction as the rows it writes) and a sender empties. A row's
-- dedupe key (change entry × recipient × kind) makes a replay of the log
-- write nothing twice; its message id makes a retried send the same
-- message in a mailbox. A row goes by e-mail to a person or by webhook
-- to an organization. None of it enters the change log.
CREATE TABLE notification_preferences (
    person_id TEXT NOT NULL REFERENCES people (id),
    kind      TEXT NOT NULL,
    delivery  TEXT NOT NULL,
    PRIMARY KEY (person_id, kind)
);

-- The notifier starts where the log stands when this table is made: a
-- node's history is not news.
CREATE TABLE notifier_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);

INSERT INTO notifier_cursor (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM change_log;

CREATE TABLE notification_outbox (
    dedupe_key      TEXT PRIMARY KEY,
    change_seq      BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    person_id       TEXT REFERENCES people (id),
    address         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    entity_kind     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    detail          TEXT NOT NULL,
    delivery        TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX notification_outbox_due ON notification_outbox (state, channel, next_attempt_at);
CREATE INDEX notification_outbox_person ON notification_outbox (person_id, created_at);

-- An organization's webhook: news of its records posted as JSON, signed
-- with HMAC-SHA256 under its secret.
CREATE TABLE webhooks (
    org_id     TEXT PRIMARY KEY REFERENCES organizations (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
