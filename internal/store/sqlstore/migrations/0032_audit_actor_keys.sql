-- The audit log's actor filter (GET /api/v1/audit?actor=LOGIN) compares
-- logins ignoring case, as the people list and a person's revoke do since
-- migration 0027: actor_key is the actor's login case-folded by cardflow
-- (store.FoldCase). The step of this migration (keyAuditActors) sets it on
-- the events stored before, a login at a time. An event a server of an
-- earlier version writes during an upgrade has none (''): the filter also
-- takes those whose login is exactly the one asked for, as before (the
-- index on actor_login stays for that).

ALTER TABLE audit_events ADD COLUMN actor_key TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_actor_key ON audit_events (actor_key, id);
