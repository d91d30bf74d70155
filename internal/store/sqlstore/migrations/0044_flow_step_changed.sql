-- How many items of a finished step changed their device (their card's
-- output said changed or deleted); NULL when the step's outputs do not
-- say (read cards, Custom API Action), and for the steps stored before
-- this migration.
ALTER TABLE flow_steps ADD COLUMN changed INTEGER;
