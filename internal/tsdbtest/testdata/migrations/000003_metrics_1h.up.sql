-- WITH NO DATA, because materializing a continuous aggregate cannot run
-- inside a transaction and this whole file runs as one. The server
-- refreshes the aggregate after migrating.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
		EXECUTE $view$
			CREATE MATERIALIZED VIEW metrics_1h WITH (timescaledb.continuous) AS
			SELECT time_bucket('1 hour', time) AS bucket, host, name,
				count(*) AS points, sum(value) AS total, min(value) AS low, max(value) AS high
			FROM metrics
			GROUP BY bucket, host, name
			WITH NO DATA
		$view$;
		PERFORM add_continuous_aggregate_policy('metrics_1h',
			start_offset => INTERVAL '3 hours',
			end_offset => INTERVAL '1 hour',
			schedule_interval => INTERVAL '30 minutes');
	END IF;
END
$$;
