-- The identity provider (the ID token's iss) each login's subject belongs
-- to: a subject is unique only within its issuer, so a sign-in from
-- another issuer is refused even with the same subject, and the refusal
-- names both issuers. The issuer is the server's -oidc-issuer, a flag the
-- database does not know, so the rows bound before this migration get
-- none (''): the next sign-in as such a login whose subject matches fills
-- in the issuer it comes from. Until then, a sign-in with another subject
-- is refused as before, its issuer unknown.
ALTER TABLE person_subjects ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
