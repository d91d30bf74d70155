-- Logins compare ignoring case, as Okta's do, and now the same way on
-- every backend: login_key (sessions) and owner_key (api_tokens) are the
-- login case-folded by cardflow (store.FoldCase, Unicode simple case
-- folding, the rule of strings.EqualFold), where SQL lower() folds only
-- ASCII letters on SQLite: "Éva@example.com" and "éva@example.com" were
-- one person on PostgreSQL and two on SQLite. The step of this migration
-- (keyLogins) sets the keys of the rows stored before; logins that now
-- fold alike become one person, as they were on PostgreSQL and in the
-- people list. Nothing here is unique, so no row has to change its login.
-- A row a server of an earlier version writes during an upgrade has no
-- key (''): the reads by login also take those rows whose lower() login
-- matches, as before.

ALTER TABLE sessions ADD COLUMN login_key TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_login_key ON sessions (actor_type, login_key);
ALTER TABLE api_tokens ADD COLUMN owner_key TEXT NOT NULL DEFAULT '';
CREATE INDEX api_tokens_by_owner_key ON api_tokens (owner_type, owner_key);

-- A person's revoke no longer ends every sign-in in flight: it marks each
-- with the revoked login's key, and the session or token a sign-in gives
-- is refused only when it is that person's. Sign-ins of other people
-- finish. A server of an earlier version ends them all when it revokes,
-- and does not look at the marks when it finishes a sign-in: servers
-- sharing a database are upgraded together.

CREATE TABLE sign_in_revokes (
    sign_in   TEXT NOT NULL REFERENCES sign_ins_in_flight (id) ON DELETE CASCADE,
    login_key TEXT NOT NULL,
    PRIMARY KEY (sign_in, login_key)
);
