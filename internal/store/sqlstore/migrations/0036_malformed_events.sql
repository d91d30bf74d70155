-- The events of a connection that cardflow could not use and left out, by
-- their uuid (or, for one without, a hash of its JSON): an event Okta
-- sends again (a hook delivery retried, the System Log poll reading what
-- the hook delivered) is audited once. Purged with the events.
CREATE TABLE malformed_events (
    connection_id TEXT NOT NULL,
    event_key     TEXT NOT NULL,
    noted_at      BIGINT NOT NULL,
    PRIMARY KEY (connection_id, event_key)
);
CREATE INDEX malformed_events_by_time ON malformed_events (noted_at);
