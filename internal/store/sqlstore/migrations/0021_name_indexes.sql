-- The API and the console page connections and flows by name ignoring
-- case, then id, with a cursor (the last record's name and id): indexes
-- in that order let a page start at its cursor instead of sorting the
-- table.
CREATE INDEX connections_by_name ON connections (lower(nickname), id);
CREATE INDEX flows_by_name ON flows (lower(name), id);
