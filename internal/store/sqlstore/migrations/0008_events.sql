-- The event inbox (SPEC §7): every Okta event received for a connection,
-- once per uuid however often and however it arrived; which flow run each
-- event started for each flow; each connection's System Log cursor and
-- event hook. Times are BIGINT Unix nanoseconds (0 = unset).

CREATE TABLE events (
    uuid          TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    published     BIGINT NOT NULL,
    raw           {{blob}},
    via_hook      BIGINT NOT NULL DEFAULT 0,
    via_poll      BIGINT NOT NULL DEFAULT 0,
    received_at   BIGINT NOT NULL,
    dispatched_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX events_by_connection ON events (connection_id, published);
CREATE INDEX events_undispatched ON events (dispatched_at, connection_id, published);

CREATE TABLE event_runs (
    event_uuid  TEXT NOT NULL,
    flow_id     TEXT NOT NULL,
    flow_run_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (event_uuid, flow_id)
);

CREATE TABLE event_sources (
    connection_id  TEXT PRIMARY KEY,
    poll_next      TEXT NOT NULL DEFAULT '',
    polled_at      BIGINT NOT NULL DEFAULT 0,
    hook_path      TEXT NOT NULL DEFAULT '',
    hook_id        TEXT NOT NULL DEFAULT '',
    sealed_secret  {{blob}},
    hook_types     TEXT NOT NULL DEFAULT '',
    hook_status    TEXT NOT NULL DEFAULT '',
    hook_reason    TEXT NOT NULL DEFAULT '',
    hook_remedy    TEXT NOT NULL DEFAULT '',
    updated_at     BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX event_sources_by_hook_path ON event_sources (hook_path) WHERE hook_path <> '';
