-- A connection's event hook whose attempts fail because Okta is down (no
-- answer, or a 5xx) is tried again with a backoff of its own, shorter
-- than that of a hook Okta refuses: how many attempts in a row failed so.
ALTER TABLE event_sources ADD COLUMN hook_outages BIGINT NOT NULL DEFAULT 0;
