-- How a connection's System Log polls fare: the last failure's words and
-- since when the polls fail, so that the console, the API and a
-- notification can say that event-triggered flows are not being started.
ALTER TABLE event_sources ADD COLUMN poll_error TEXT NOT NULL DEFAULT '';
ALTER TABLE event_sources ADD COLUMN poll_remedy TEXT NOT NULL DEFAULT '';
ALTER TABLE event_sources ADD COLUMN poll_failing_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE event_sources ADD COLUMN poll_alerted_at BIGINT NOT NULL DEFAULT 0;
