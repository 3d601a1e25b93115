-- R__character_activity: each character's action count and latest action, for the admin dashboard.
-- Repeatable: sqlrun applies it after the numbered scripts, and again whenever this file changes.
-- DROP + CREATE (not CREATE OR REPLACE) works on all three databases and lets the columns change.

DROP VIEW IF EXISTS character_activity;

CREATE VIEW character_activity AS
SELECT u.id AS character_id,
       u.username,
       COUNT(a.id) AS actions,
       MAX(a.created_at) AS last_action_at
FROM users u
LEFT JOIN action_logs a ON a.character_id = u.id
GROUP BY u.id, u.username;
