-- The console and the API page every flow run and every event, newest
-- first, with a cursor (created_at, id) and (published, uuid): indexes in
-- that order let a page start at its cursor instead of sorting the table.
CREATE INDEX flow_runs_created ON flow_runs (created_at, id);
CREATE INDEX events_published ON events (published, uuid);
