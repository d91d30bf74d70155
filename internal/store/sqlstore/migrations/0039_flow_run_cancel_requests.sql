-- Who asked a flow run to stop and why, kept with the run beside
-- cancel_requested_at (when): the actor of the first cancel request, as
-- the actor columns name a run's starter, and its reason ('' when the
-- person asked on their own; "its starter LOGIN's access was revoked"
-- when a revoke canceled the run). Runs canceled before this migration
-- keep none: nobody recorded who asked.
ALTER TABLE flow_runs ADD COLUMN cancel_actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN cancel_actor_login TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN cancel_actor_token TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_runs ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
