package tsdbtest

// resetSQL drops everything a test may have created in the engine's only
// database while keeping the timescaledb extension. The extension cannot be
// dropped and created again: TimescaleDB 2.23 then fails with "extension
// timescaledb has already been loaded with another version" until a new
// backend starts, and the engine never starts another backend. DROP SCHEMA
// public CASCADE is ruled out too, because the extension lives in public.
//
// Continuous aggregates go first so that TimescaleDB removes their
// materialization hypertables; dropping a hypertable removes its chunks and
// its compression and retention policies. Objects that belong to an
// extension stay. Roles, which tests rarely create, are not dropped.
const resetSQL = `
DO $reset$
DECLARE
	obj record;
BEGIN
	FOR obj IN
		SELECT format('%I.%I', view_schema, view_name) AS name
		FROM timescaledb_information.continuous_aggregates
	LOOP
		EXECUTE 'DROP MATERIALIZED VIEW IF EXISTS ' || obj.name || ' CASCADE';
	END LOOP;

	FOR obj IN
		SELECT n.nspname
		FROM pg_namespace n
		WHERE n.nspname NOT IN ('public', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_%'
		  AND NOT EXISTS (
			SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', obj.nspname);
	END LOOP;

	FOR obj IN
		SELECT c.relname,
			CASE c.relkind
				WHEN 'v' THEN 'VIEW'
				WHEN 'm' THEN 'MATERIALIZED VIEW'
				WHEN 'S' THEN 'SEQUENCE'
				WHEN 'f' THEN 'FOREIGN TABLE'
				ELSE 'TABLE'
			END AS kind
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public'
		  AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
		  AND NOT EXISTS (
			SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		  -- Serial and identity sequences go with their tables, and
		  -- dropping an identity sequence alone fails even with CASCADE.
		  AND NOT (c.relkind = 'S' AND EXISTS (
			SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
			  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
	LOOP
		EXECUTE format('DROP %s IF EXISTS public.%I CASCADE', obj.kind, obj.relname);
	END LOOP;

	FOR obj IN
		SELECT p.oid::regprocedure::text AS signature
		FROM pg_proc p
		JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public'
		  AND NOT EXISTS (
			SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype IN ('e', 'i'))
	LOOP
		EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', obj.signature);
	END LOOP;

	FOR obj IN
		SELECT t.typname
		FROM pg_type t
		JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = 'public'
		  AND t.typtype IN ('e', 'd', 'r', 'c')
		  AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
		  AND NOT EXISTS (
			SELECT 1 FROM pg_depend d
			WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
	LOOP
		EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', obj.typname);
	END LOOP;

	-- Jobs added with add_job; policies went with their tables.
	FOR obj IN
		SELECT job_id FROM timescaledb_information.jobs WHERE job_id >= 1000
	LOOP
		PERFORM delete_job(obj.job_id);
	END LOOP;
END
$reset$`
