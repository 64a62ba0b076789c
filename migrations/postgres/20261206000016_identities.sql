-- People sign in through their region's identity provider (OpenID
-- Connect). An account at an issuer (its subject) is bound to one person,
-- a person to one account per issuer. None of this is a record of the
-- network: it never enters the change log.
CREATE TABLE identities (
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    person_id       TEXT NOT NULL REFERENCES people (id),
    email           TEXT,
    bound_by        TEXT NOT NULL,
    bound_at        BIGINT NOT NULL,
    last_sign_in_at BIGINT,
    PRIMARY KEY (issuer, subject),
    CONSTRAINT identities_person_issuer_key UNIQUE (person_id, issuer)
);

-- A sign-in started through an issuer and not yet finished: the browser's
-- state (or the command line's handle) is kept only as a hash.
CREATE TABLE pending_sign_ins (
    id            TEXT PRIMARY KEY,
    secret_hash   TEXT NOT NULL CONSTRAINT pending_sign_ins_secret_hash_key UNIQUE,
    issuer        TEXT NOT NULL,
    nonce         TEXT,
    pkce_verifier TEXT,
    device_code   TEXT,
    invitation_id TEXT REFERENCES sign_in_links (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
CREATE INDEX pending_sign_ins_expiry ON pending_sign_ins (expires_at);

-- An organization may require its members to sign in through one issuer.
CREATE TABLE organization_sign_in (
    org_id TEXT PRIMARY KEY REFERENCES organizations (id),
    issuer TEXT NOT NULL
);

-- An invitation binds the account that completes a sign-in with it, and
-- starts no session itself.
ALTER TABLE sign_in_links ADD COLUMN invitation BIGINT NOT NULL DEFAULT 0;
-- The issuer a session, or a command line's token, started through.
ALTER TABLE sessions ADD COLUMN issuer TEXT;
ALTER TABLE api_tokens ADD COLUMN issuer TEXT;
