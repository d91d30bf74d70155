-- The personal API token that created a token, so that revoking a token
-- also revokes the tokens it made (a leaked token's offspring must not
-- outlive its revocation). Tokens made before are nobody's offspring.

ALTER TABLE api_tokens ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
