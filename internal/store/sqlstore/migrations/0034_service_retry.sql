-- A service connection in error or pending is tested again in the
-- background with a backoff shared by every server and kept across
-- restarts: how many tests were made since it was last active, and when
-- the next is due. The leases that held each server's wait are not used
-- any more.
ALTER TABLE connections ADD COLUMN service_retries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN service_retry_at BIGINT NOT NULL DEFAULT 0;
DELETE FROM leases WHERE name LIKE 'service-retry:%';
