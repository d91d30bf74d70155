-- People (SPEC §9): who did what, personal API tokens, console sessions
-- shared by every server, and pending single sign-ons. Rows written before
-- this migration were all made with the server's API token: the bootstrap
-- admin.

ALTER TABLE runs ADD COLUMN actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN actor_login TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN actor_token TEXT NOT NULL DEFAULT '';
UPDATE runs SET actor_type = 'bootstrap';

ALTER TABLE flow_runs ADD COLUMN actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN actor_login TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN actor_token TEXT NOT NULL DEFAULT '';
UPDATE flow_runs SET actor_type = 'bootstrap';

ALTER TABLE audit_events ADD COLUMN actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_login TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_token TEXT NOT NULL DEFAULT '';
UPDATE audit_events SET actor_type = 'bootstrap';
CREATE INDEX audit_events_actor ON audit_events (actor_login, id);

-- Who enabled (or disabled) a flow: its triggered runs are attributed to
-- who enabled it.
ALTER TABLE flows ADD COLUMN enabled_by_type TEXT NOT NULL DEFAULT '';
ALTER TABLE flows ADD COLUMN enabled_by_login TEXT NOT NULL DEFAULT '';
ALTER TABLE flows ADD COLUMN enabled_by_token TEXT NOT NULL DEFAULT '';
UPDATE flows SET enabled_by_type = 'bootstrap' WHERE enabled = 1;

ALTER TABLE auth_requests ADD COLUMN actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN actor_login TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_requests ADD COLUMN actor_token TEXT NOT NULL DEFAULT '';
UPDATE auth_requests SET actor_type = 'bootstrap';

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    owner_type   TEXT NOT NULL,
    owner_login  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_owner ON api_tokens (owner_type, owner_login, created_at);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    actor_type  TEXT NOT NULL,
    actor_login TEXT NOT NULL,
    actor_token TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    flashes     TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE sign_in_requests (
    state           TEXT PRIMARY KEY,
    sealed_verifier {{blob}},
    nonce           TEXT NOT NULL,
    next            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX sign_in_requests_expires ON sign_in_requests (expires_at);
