DROP TABLE IF EXISTS rollup_state;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        DROP MATERIALIZED VIEW IF EXISTS metrics_1h;
        -- Compressed chunks must be decompressed before compression can be
        -- turned off; refuse rather than leave half of them converted.
        IF EXISTS (SELECT 1 FROM timescaledb_information.chunks WHERE is_compressed) THEN
            RAISE EXCEPTION 'compressed chunks exist: decompress them with decompress_chunk() before migrating down';
        END IF;
        ALTER TABLE metrics SET (timescaledb.compress = false);
        ALTER TABLE logs SET (timescaledb.compress = false);
    ELSE
        DROP TABLE IF EXISTS metrics_1h;
    END IF;
END
$$;
