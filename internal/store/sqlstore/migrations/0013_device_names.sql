-- A card run and a flow item keep the display name of the device they are
-- about when the flow knew it (a search or read output), so that a
-- finished run shows "Name (id)" without asking Okta.
ALTER TABLE runs ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
ALTER TABLE flow_items ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
