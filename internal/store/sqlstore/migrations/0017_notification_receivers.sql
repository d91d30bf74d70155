-- Outbox rows name their receiver by the SHA-256 of its URL (lower-case
-- hex) instead of the URL: an incoming webhook's URL is its key, and the
-- database, and every backup of it, must not hold it. Servers map the
-- digests back to their -notify-url receivers. SQLite has no SHA-256, so
-- the rows of the old table move to the new one in Go, in this
-- migration's transaction (afterMigration in migrate.go), which then drops
-- the old table; their stored errors lose the receiver's path as they
-- move. The primary key is named: on PostgreSQL the old table's
-- notifications_pkey lives until then.
ALTER TABLE notifications RENAME TO notifications_by_url;
DROP INDEX notifications_due;
CREATE TABLE notifications (
    id              TEXT NOT NULL,
    receiver        TEXT NOT NULL,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL,
    last_error      TEXT NOT NULL,
    owner           TEXT NOT NULL,
    lease_until     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    CONSTRAINT notifications_receiver_pkey PRIMARY KEY (id, receiver)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE delivered_at = 0;
