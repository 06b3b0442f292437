-- The down state of each host. A server restart reads it back, so it does
-- not repeat host.down for a host it already reported down, and the host.up
-- that follows still carries the incident id of that host.down.
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS down_since TIMESTAMPTZ;
ALTER TABLE hosts ADD COLUMN IF NOT EXISTS down_incident_id TEXT;

-- Alerts in the firing state, one row per rule and series. A server restart
-- resumes them with the same incident id instead of firing them again, and
-- their resolved event closes the incident the receivers already know.
CREATE TABLE IF NOT EXISTS firing_alerts (
    rule_id     TEXT             NOT NULL,
    host        TEXT             NOT NULL,
    labels      JSONB            NOT NULL DEFAULT '{}'::jsonb,
    name        TEXT             NOT NULL,
    incident_id TEXT             NOT NULL,
    value       DOUBLE PRECISION NOT NULL,
    fired_at    TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (rule_id, host, labels)
);

-- Alert rules for every host ("host": "*") select recent rows by metric name
-- alone, which the (host, name, time DESC) index cannot serve without a scan
-- of the whole table.
CREATE INDEX IF NOT EXISTS metrics_name_time_idx ON metrics (name, time DESC);
