-- A console session's one-time messages, a row each. They were a JSON
-- list in sessions.flashes, which every request wrote back with the
-- session's last_seen as it had read them: a request of another tab that
-- read the session before a message was added dropped it, one that read
-- it before the messages were shown brought them back. Now a message is
-- added by an insert and taken by a delete, and the touch writes
-- last_seen alone. The messages waiting move here (moveSessionFlashes);
-- sessions.flashes is left empty and no longer used.

CREATE TABLE session_flashes (
    id         {{autoid}},
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    body       TEXT NOT NULL
);
CREATE INDEX session_flashes_session ON session_flashes (session_id, id);
