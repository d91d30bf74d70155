-- A stable code for why a connection is not active (key_refused,
-- scope_not_granted, no_admin_role, refresh_token_expired ...), stored
-- with its status, reason and remedy: what a program tells failures
-- apart by, where the reason and remedy are words that may change. The
-- rows written before this migration get none ('').
--
-- status_reason_code_version is the row's version the code was written
-- at: a cardflow of an earlier version, during a rolling upgrade, updates
-- a row's status without its code (and increments version), so a code
-- whose version is not the row's is no longer the status's and reads as
-- none.
ALTER TABLE connections ADD COLUMN status_reason_code TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN status_reason_code_version BIGINT NOT NULL DEFAULT 0;
