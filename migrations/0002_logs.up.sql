-- Log entries shipped by agents. The primary key includes time because a
-- TimescaleDB hypertable needs the partitioning column in every unique
-- constraint.
CREATE TABLE IF NOT EXISTS logs (
    id      BIGINT GENERATED ALWAYS AS IDENTITY,
    time    TIMESTAMPTZ NOT NULL,
    host    TEXT        NOT NULL,
    path    TEXT        NOT NULL DEFAULT '',
    level   TEXT        NOT NULL,
    message TEXT        NOT NULL,
    PRIMARY KEY (id, time)
);

CREATE INDEX IF NOT EXISTS logs_host_time_idx ON logs (host, time DESC, id DESC);
CREATE INDEX IF NOT EXISTS logs_level_time_idx ON logs (level, time DESC);
CREATE INDEX IF NOT EXISTS logs_time_idx ON logs (time DESC, id DESC);

-- Substring search on message uses a trigram index when pg_trgm (part of
-- PostgreSQL's contrib) is installed; without it the search still works by
-- scanning.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX IF NOT EXISTS logs_message_trgm_idx ON logs USING gin (message gin_trgm_ops);
    END IF;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        PERFORM create_hypertable('logs', 'time',
            chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE);
    END IF;
END
$$;
