-- The card runs of one flow item (a resumed item looks for earlier attempts).
CREATE INDEX runs_flow_item ON runs (flow_run_id, step_id, item_index);

-- When someone asked a flow run to stop (0: nobody did).
ALTER TABLE flow_runs ADD COLUMN cancel_requested_at BIGINT NOT NULL DEFAULT 0;
