DROP INDEX IF EXISTS metrics_name_time_idx;
DROP TABLE IF EXISTS firing_alerts;
ALTER TABLE hosts DROP COLUMN IF EXISTS down_incident_id;
ALTER TABLE hosts DROP COLUMN IF EXISTS down_since;
