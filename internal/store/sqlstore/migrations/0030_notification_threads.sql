-- The messages of one thread (a connection's System Log polls, its event
-- hook) reach each receiver in the order they were made: an
-- events.poll_recovered waits for the events.poll_failing before it.
ALTER TABLE notifications ADD COLUMN thread TEXT NOT NULL DEFAULT '';
CREATE INDEX notifications_thread ON notifications (thread, receiver, created_at) WHERE thread <> '' AND delivered_at = 0;
