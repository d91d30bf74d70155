-- Rate budgets shared by every server on the database (one row per org
-- and rate-limit bucket). Times are BIGINT Unix nanoseconds (0 = unset).

CREATE TABLE rate_budgets (
    name       TEXT PRIMARY KEY,
    lim        BIGINT NOT NULL,
    used       BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    estimated  BIGINT NOT NULL,
    last_grant BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
