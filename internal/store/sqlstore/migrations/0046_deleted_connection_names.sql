-- A connection filter naming a deleted connection's nickname (audit and
-- runs --connection NAME) is refused naming the deleted connection's id,
-- which its records keep. deleted_connection_names keys each
-- connection.delete event that deleted a connection by its nickname,
-- case-folded by cardflow (store.FoldCase), so that every deletion of a
-- nickname is found by an indexed query, where the newest 1000 deletions
-- were read. The step of this migration (keyDeletedNicknames) keys the
-- deletions stored before; the purge of the audit log deletes the keys
-- of the events it deletes.

CREATE TABLE deleted_connection_names (
    audit_id     BIGINT PRIMARY KEY,
    nickname_key TEXT NOT NULL
);
CREATE INDEX deleted_connection_names_key ON deleted_connection_names (nickname_key, audit_id);
