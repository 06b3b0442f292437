-- Hourly rollups of metrics, so queries over long ranges at 1h and 1d
-- buckets read one row per series and hour instead of every raw sample.
-- On TimescaleDB this is a continuous aggregate created WITH NO DATA; the
-- server refreshes it outside any migration transaction. On plain
-- PostgreSQL it is a table the server fills with the same columns.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_1h
            WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
            SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, host, name, labels,
                   sum(value) AS sum, count(*) AS count, min(value) AS min, max(value) AS max
            FROM metrics
            GROUP BY bucket, host, name, labels
            WITH NO DATA
        $sql$;

        -- Compressed chunks are grouped by the columns every query filters
        -- on, and ordered by time as queries read them.
        ALTER TABLE metrics SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'host, name',
            timescaledb.compress_orderby = 'time DESC');
        ALTER TABLE logs SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'host',
            timescaledb.compress_orderby = 'time DESC, id DESC');
    ELSE
        CREATE TABLE IF NOT EXISTS metrics_1h (
            bucket TIMESTAMPTZ      NOT NULL,
            host   TEXT             NOT NULL,
            name   TEXT             NOT NULL,
            labels JSONB            NOT NULL,
            sum    DOUBLE PRECISION NOT NULL,
            count  BIGINT           NOT NULL,
            min    DOUBLE PRECISION NOT NULL,
            max    DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (host, name, labels, bucket)
        );
    END IF;
END
$$;

CREATE INDEX IF NOT EXISTS metrics_1h_host_name_bucket_idx ON metrics_1h (host, name, bucket DESC);

-- How far the rollup is complete: every hour before upto is rolled up.
CREATE TABLE IF NOT EXISTS rollup_state (
    name TEXT PRIMARY KEY,
    upto TIMESTAMPTZ NOT NULL
);
