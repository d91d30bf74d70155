-- Flow names are unique ignoring case, as nicknames are, and the database
-- holds it, so that two servers storing "Offboard" and "offboard" at once
-- cannot both succeed: name_key is the name case-folded by cardflow
-- (foldName, the same on every backend, where lower() folds only ASCII
-- letters on SQLite), and unique. A flow written by a server of an
-- earlier version has none (NULL, which the index does not compare):
-- servers sharing a database are upgraded together.
--
-- Flows stored before whose names differ only in case cannot all keep
-- them: the step of this migration (keyFlowNames) keeps the name of the
-- first stored (created_at, then id) and renames each later one
-- "NAME (ID)", its own id, before it sets the keys. Their documents, runs
-- and triggers are left as they were; the renamed flow is found by its new
-- name or its id.

ALTER TABLE flows ADD COLUMN name_key TEXT;
CREATE UNIQUE INDEX flows_by_name_key ON flows (name_key);
