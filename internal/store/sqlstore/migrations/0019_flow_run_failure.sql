-- What a failed flow run failed on, as a key that is the same for runs
-- that failed the same way (the run's own error, or each failed step's
-- first error code): a flow that keeps failing the same way is notified
-- once, not on every run. Runs stored before have none.

ALTER TABLE flow_runs ADD COLUMN failure TEXT NOT NULL DEFAULT '';
