-- Every stored version of a flow's document. The flows row keeps the
-- latest version's source (and its number, and who stored it) so that
-- readers of the latest need no join; storing a byte-identical source again
-- adds no version. Versions go with their flow; runs keep the version they
-- ran, and who asked for a rerun runs the version of the run it repeats.
CREATE TABLE flow_versions (
    flow_id         TEXT NOT NULL,
    version         BIGINT NOT NULL,
    source          {{blob}},
    source_sha256   TEXT NOT NULL,
    source_size     BIGINT NOT NULL,
    stored_at       BIGINT NOT NULL,
    stored_by_type  TEXT NOT NULL,
    stored_by_login TEXT NOT NULL,
    stored_by_token TEXT NOT NULL,
    PRIMARY KEY (flow_id, version)
);

ALTER TABLE flows ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE flows ADD COLUMN stored_by_type TEXT NOT NULL DEFAULT '';
ALTER TABLE flows ADD COLUMN stored_by_login TEXT NOT NULL DEFAULT '';
ALTER TABLE flows ADD COLUMN stored_by_token TEXT NOT NULL DEFAULT '';

-- A flow stored before versions were kept is its own version 1 (its hash
-- is computed when read).
INSERT INTO flow_versions (flow_id, version, source, source_sha256, source_size, stored_at,
    stored_by_type, stored_by_login, stored_by_token)
SELECT id, 1, source, '', COALESCE(length(source), 0), updated_at, '', '', '' FROM flows;

-- The version a run ran (0: stored before versions were kept) and the run
-- a rerun repeats ('' for the others).
ALTER TABLE flow_runs ADD COLUMN flow_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE flow_runs ADD COLUMN rerun_of TEXT NOT NULL DEFAULT '';
