-- Tokens whose creator is gone: a revoke of an earlier version deleted a
-- token and then its offspring one after the other, so one that failed
-- (or a server that died) between the two left tokens whose parent no
-- longer exists. They are refused at every use (a token is used only
-- while its creator exists), so they go, with their own offspring; since
-- then every revoke deletes a token with its offspring in one
-- transaction, and a token is created only while its creator exists.
-- The index serves the revokes' walk from a token to its offspring.

DELETE FROM api_tokens WHERE id IN (
    WITH RECURSIVE orphaned (id) AS (
        SELECT t.id FROM api_tokens t
        WHERE t.parent_id <> '' AND NOT EXISTS (SELECT 1 FROM api_tokens p WHERE p.id = t.parent_id)
        UNION
        SELECT c.id FROM api_tokens c JOIN orphaned o ON c.parent_id = o.id)
    SELECT id FROM orphaned);

CREATE INDEX api_tokens_by_parent ON api_tokens (parent_id);
