CREATE TABLE IF NOT EXISTS metrics (
    time   TIMESTAMPTZ      NOT NULL,
    host   TEXT             NOT NULL,
    name   TEXT             NOT NULL,
    value  DOUBLE PRECISION NOT NULL,
    labels JSONB            NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX IF NOT EXISTS metrics_host_name_time_idx ON metrics (host, name, time DESC);

-- Batch ids seen in the last 24 hours, so a batch an agent retries after a
-- timeout is stored once.
CREATE TABLE IF NOT EXISTS ingest_batches (
    batch_id    TEXT        PRIMARY KEY,
    kind        TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS ingest_batches_received_at_idx ON ingest_batches (received_at);

-- Hosts known to the server, written behind the in-memory liveness tracker
-- so host status survives a restart.
CREATE TABLE IF NOT EXISTS hosts (
    host             TEXT PRIMARY KEY,
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    interval_seconds DOUBLE PRECISION,
    retired_at       TIMESTAMPTZ
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('metrics', 'time',
            chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE);
    END IF;
END
$$;
