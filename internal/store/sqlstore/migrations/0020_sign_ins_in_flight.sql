-- Sign-ins in flight: from before the identity provider is asked who
-- signed in until the console session or personal API token it gives is
-- stored. Revoking a person's access ends them all (whose they are is not
-- known yet), so that a sign-in that began before a revoke gives nothing
-- after it. A server without this table neither starts nor ends them.

CREATE TABLE sign_ins_in_flight (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sign_ins_in_flight_expires ON sign_ins_in_flight (expires_at);
