-- The initial schema. {{blob}} and {{autoid}} are replaced per dialect.
-- Times are BIGINT Unix nanoseconds (0 = unset); lists are JSON text.

CREATE TABLE connections (
    id                   TEXT PRIMARY KEY,
    connector            TEXT NOT NULL,
    nickname             TEXT NOT NULL,
    nickname_key         TEXT NOT NULL,
    domain               TEXT NOT NULL,
    status               TEXT NOT NULL,
    status_reason        TEXT NOT NULL,
    remedy               TEXT NOT NULL,
    scope_mode           TEXT NOT NULL,
    requested_scopes     TEXT NOT NULL,
    granted_scopes       TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    sealed_client_secret {{blob}},
    sealed_refresh_token {{blob}},
    sealed_access_token  {{blob}},
    sealed_id_token      {{blob}},
    access_token_expiry  BIGINT NOT NULL,
    refresh_started_at   BIGINT NOT NULL,
    authorized_user_id   TEXT NOT NULL,
    authorized_login     TEXT NOT NULL,
    authorized_name      TEXT NOT NULL,
    authorized_at        BIGINT NOT NULL,
    last_used_at         BIGINT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    version              BIGINT NOT NULL
);
CREATE UNIQUE INDEX connections_nickname ON connections (connector, nickname_key);

CREATE TABLE auth_requests (
    state            TEXT PRIMARY KEY,
    connection_id    TEXT NOT NULL,
    reauthorize      BIGINT NOT NULL,
    scope_mode       TEXT NOT NULL,
    requested_scopes TEXT NOT NULL,
    sealed_verifier  {{blob}},
    nonce            TEXT NOT NULL,
    caller           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE runs (
    id                  TEXT PRIMARY KEY,
    card                TEXT NOT NULL,
    connection_id       TEXT NOT NULL,
    connection_nickname TEXT NOT NULL,
    caller              TEXT NOT NULL,
    acting_as           TEXT NOT NULL,
    status              TEXT NOT NULL,
    input               TEXT,
    output              TEXT,
    error_code          TEXT NOT NULL,
    error_message       TEXT NOT NULL,
    remedy              TEXT NOT NULL,
    okta_request_ids    TEXT NOT NULL,
    flow_run_id         TEXT NOT NULL,
    step_id             TEXT NOT NULL,
    item_index          BIGINT NOT NULL,
    started_at          BIGINT NOT NULL,
    finished_at         BIGINT NOT NULL
);
CREATE INDEX runs_started ON runs (started_at, id);
CREATE INDEX runs_connection ON runs (connection_id, started_at);
CREATE INDEX runs_flow_run ON runs (flow_run_id, started_at);

CREATE TABLE audit_events (
    id              {{autoid}},
    time            BIGINT NOT NULL,
    caller          TEXT NOT NULL,
    action          TEXT NOT NULL,
    connection_id   TEXT NOT NULL,
    acting_as       TEXT NOT NULL,
    card            TEXT NOT NULL,
    input_summary   TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    error           TEXT NOT NULL,
    okta_request_id TEXT NOT NULL
);
CREATE INDEX audit_events_connection ON audit_events (connection_id, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE TABLE flows (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    source     {{blob}},
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE flow_runs (
    id          TEXT PRIMARY KEY,
    flow_id     TEXT NOT NULL,
    flow_name   TEXT NOT NULL,
    source      {{blob}},
    inputs      TEXT,
    status      TEXT NOT NULL,
    caller      TEXT NOT NULL,
    error       TEXT NOT NULL,
    owner       TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX flow_runs_claim ON flow_runs (status, created_at);
CREATE INDEX flow_runs_flow ON flow_runs (flow_id, created_at);

CREATE TABLE flow_steps (
    run_id      TEXT NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    status      TEXT NOT NULL,
    items       BIGINT NOT NULL,
    succeeded   BIGINT NOT NULL,
    failed      BIGINT NOT NULL,
    skipped     BIGINT NOT NULL,
    output      TEXT,
    error       TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE flow_items (
    run_id      TEXT NOT NULL REFERENCES flow_runs (id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    item_index  BIGINT NOT NULL,
    status      TEXT NOT NULL,
    input       TEXT,
    output      TEXT,
    error_code  TEXT NOT NULL,
    error       TEXT NOT NULL,
    run_ref     TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, step_id, item_index)
);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value {{blob}}
);
