-- How far a connection's System Log polls have read (every event stored
-- at Okta before it was read): a server that comes back after longer than
-- Okta keeps its System Log (90 days), or whose cursor Okta refuses,
-- knows which stretch of events it may have missed. 0 until a poll.
ALTER TABLE event_sources ADD COLUMN poll_read_to BIGINT NOT NULL DEFAULT 0;
