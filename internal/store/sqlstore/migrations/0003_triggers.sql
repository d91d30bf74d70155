-- Flows that run on their own. A flow with a trigger (on:) keeps its
-- canonical spec (JSON, '' without a trigger), whether it is enabled, and
-- while an enabled schedule runs, its next tick (0 otherwise). Each
-- triggered run carries its trigger (JSON) and a key unique per flow, the
-- tick or the event's uuid: whichever server inserts it first creates the
-- run, so a tick or an event starts at most one run. Notifications wait
-- in an outbox, one row per receiver URL, until the receiver answers 2xx.
ALTER TABLE flows ADD COLUMN trigger_spec TEXT NOT NULL DEFAULT '';
ALTER TABLE flows ADD COLUMN enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE flows ADD COLUMN next_run_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX flows_due ON flows (next_run_at) WHERE next_run_at > 0;

ALTER TABLE flow_runs ADD COLUMN trigger_info TEXT;
ALTER TABLE flow_runs ADD COLUMN trigger_key TEXT;
CREATE UNIQUE INDEX flow_runs_trigger ON flow_runs (flow_id, trigger_key);

CREATE TABLE notifications (
    id              TEXT NOT NULL,
    url             TEXT NOT NULL,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT NOT NULL,
    last_error      TEXT NOT NULL,
    owner           TEXT NOT NULL,
    lease_until     BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (id, url)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE delivered_at = 0;
