-- Authorizations that succeeded, by a hash of their OAuth state, for a
-- while after: a reload of the callback page (its state was used) is
-- told that the authorization was completed, rather than that it failed.
-- A server without this table tells a reload that the state is used.

CREATE TABLE auth_completions (
    state_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX auth_completions_expires ON auth_completions (expires_at);
