-- The card runs of one flow item (a resumed item looks for earlier attempts).
CREATE INDEX runs_flow_item ON runs (flow_run_id, step_id, item_index);
