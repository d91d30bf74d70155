-- A connection's event hook that keeps failing (Okta cannot verify it, or
-- refuses it) is tried again with a backoff: how many attempts failed in
-- a row, when the next is due, and what they were for (the flows and the
-- connection: a change tries at once).
ALTER TABLE event_sources ADD COLUMN hook_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE event_sources ADD COLUMN hook_retry_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE event_sources ADD COLUMN hook_retry_key TEXT NOT NULL DEFAULT '';
