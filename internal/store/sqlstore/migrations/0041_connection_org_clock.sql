-- How far the clock of a connection's org is ahead of cardflow's (in
-- nanoseconds; negative: behind), as the Date of the org's latest answer
-- to the connection tells it (sign-in, refresh, card calls): a user
-- connection's refresh token ends at an org time, 90 days after the
-- sign-in, and its expiry warning and check go by the org's clock. The
-- rows written before this migration get 0, the server's clock, until
-- their org next answers.
ALTER TABLE connections ADD COLUMN org_clock_offset BIGINT NOT NULL DEFAULT 0;
