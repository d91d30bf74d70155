-- A failed run an Okta event started whose connection could not run its
-- cards (it needs reauthorization, or the org refuses the service
-- connection) is rerun, its failed items only, once that connection is
-- active again: rerun_when_active is that connection's id (and
-- rerun_connection its nickname then, as runs keep their flow's name); rerun_by the
-- id of the run that reran it (automatically, or by hand first), set once;
-- rerun_skipped why it was not rerun (its flow was disabled or deleted
-- meanwhile). Runs failed before this migration wait for nothing.
ALTER TABLE flow_runs ADD COLUMN rerun_when_active TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN rerun_connection TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN rerun_by TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN rerun_skipped TEXT NOT NULL DEFAULT '';
-- The runs still waiting, read by every server's dispatch round.
CREATE INDEX flow_runs_rerun_waiting ON flow_runs (created_at) WHERE rerun_when_active <> '' AND rerun_by = '' AND rerun_skipped = '';
