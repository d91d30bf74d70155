-- A card run's owner (the server executing it) and that server's lease on
-- it, renewed while the server lives. A direct card run (of no flow run)
-- whose lease lapsed is ended interrupted by any server; a flow run's card
-- runs are ended by the server that resumes the flow run. Runs left
-- running before this column existed have no lease (0): the first sweep
-- ends them too.
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_running ON runs (lease_until) WHERE status = 'running';
