CREATE TABLE logs (
	id      bigint GENERATED ALWAYS AS IDENTITY,
	time    timestamptz NOT NULL,
	host    text        NOT NULL,
	level   text        NOT NULL,
	message text        NOT NULL,
	PRIMARY KEY (id, time)
);

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
		PERFORM create_hypertable('logs', by_range('time', INTERVAL '1 day'));
		PERFORM add_retention_policy('logs', INTERVAL '14 days');
	END IF;
END
$$;
