-- Revokes take turns. A token's revoke (DeleteAPIToken) finds the token's
-- offspring a generation at a time and locks each as it finds it; a
-- person's (DeletePersonAccess) locks their tokens in id order. No order
-- of locks suits both, so each first locks this table's one row: of two
-- revokes, the second waits for the first holding nothing the first needs
-- (PostgreSQL; SQLite's writers take turns anyway).

CREATE TABLE revoke_turn (id INTEGER PRIMARY KEY);
INSERT INTO revoke_turn (id) VALUES (1);
