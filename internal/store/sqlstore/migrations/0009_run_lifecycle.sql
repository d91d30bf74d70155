-- The card runs of one flow item (a resumed item looks for earlier attempts).
CREATE INDEX runs_flow_item ON runs (flow_run_id, step_id, item_index);

-- When someone asked a flow run to stop (0: nobody did).
ALTER TABLE flow_runs ADD COLUMN cancel_requested_at BIGINT NOT NULL DEFAULT 0;

-- An item whose output is its card run's output keeps it once, in the run.
ALTER TABLE flow_items ADD COLUMN output_in_run BIGINT NOT NULL DEFAULT 0;

-- Retention reads finished runs by age.
CREATE INDEX flow_runs_finished ON flow_runs (finished_at) WHERE finished_at > 0;
CREATE INDEX runs_direct_finished ON runs (finished_at) WHERE flow_run_id = '' AND finished_at > 0;
