-- The account at the identity provider (the ID token's sub) each login
-- was first signed in with: a login is a claim that some identity
-- providers let a person (or a lesser admin) change, so the session or
-- token of a sign-in whose subject differs from the one its login is bound
-- to is refused. A login signed in to before this migration has no row,
-- and is bound by its next sign-in. Revoking a person's access deletes
-- their row: their next sign-in binds the login anew.
CREATE TABLE person_subjects (
    login_key TEXT PRIMARY KEY,
    login     TEXT NOT NULL,
    subject   TEXT NOT NULL,
    bound_at  BIGINT NOT NULL
);
