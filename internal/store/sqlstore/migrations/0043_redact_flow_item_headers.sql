-- The flow items of a Custom API Action stored before this version keep
-- the values of the request headers their input gave, which the card
-- runs never kept: the migration's step (redactFlowItemHeaders) replaces
-- each with "(redacted)", as items are stored since. No schema changes.
SELECT 1;
