CREATE TABLE metrics (
	time   timestamptz      NOT NULL,
	host   text             NOT NULL,
	name   text             NOT NULL,
	value  double precision NOT NULL,
	labels jsonb
);
CREATE INDEX metrics_host_name_time_idx ON metrics (host, name, time DESC);

-- TimescaleDB statements run only where the extension is installed, so one
-- migration sequence serves plain PostgreSQL too.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
		PERFORM create_hypertable('metrics', by_range('time', INTERVAL '1 day'));
		ALTER TABLE metrics SET (
			timescaledb.compress,
			timescaledb.compress_segmentby = 'host, name',
			timescaledb.compress_orderby = 'time DESC'
		);
		PERFORM add_compression_policy('metrics', INTERVAL '2 days');
		PERFORM add_retention_policy('metrics', INTERVAL '30 days');
	END IF;
END
$$;
