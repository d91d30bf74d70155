-- A card run that a flow's plan made (its read steps run for real) and its
-- card.run audit event name the flow planned: its id (empty for a document
-- planned without being stored) and its name, empty for every other run.
-- The run list and the audit log filter by it (?plans=exclude|only); the
-- partial indexes let a list of plan reads alone start at its cursor
-- without walking every other run or event.
ALTER TABLE runs ADD COLUMN plan_flow_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN plan_flow_name TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN plan_flow_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN plan_flow_name TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_plans ON runs (started_at, id) WHERE plan_flow_name <> '';
CREATE INDEX audit_events_plans ON audit_events (id) WHERE plan_flow_name <> '';
