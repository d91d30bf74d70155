-- Connections that last: the refresh token's expiry (read by introspection)
-- and when the expiry warning went out; service-app connections
-- (auth = 'service') with their sealed private keys (the client-auth key,
-- a key being rotated in, the DPoP proof key), whether they use DPoP, and
-- the type of the stored access token ('Bearer' or 'DPoP').
ALTER TABLE connections ADD COLUMN auth TEXT NOT NULL DEFAULT 'user';
ALTER TABLE connections ADD COLUMN refresh_token_expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN expiry_notified_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN sealed_private_key {{blob}};
ALTER TABLE connections ADD COLUMN sealed_next_private_key {{blob}};
ALTER TABLE connections ADD COLUMN sealed_dpop_key {{blob}};
ALTER TABLE connections ADD COLUMN dpop BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN access_token_type TEXT NOT NULL DEFAULT '';
