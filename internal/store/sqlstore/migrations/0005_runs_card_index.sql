-- GET /api/v1/runs?card= and the console's run history filter runs by card
-- and list them newest first: without an index each such list scanned the
-- whole table.

CREATE INDEX runs_card ON runs (card, started_at, id);
