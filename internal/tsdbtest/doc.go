// Package tsdbtest gives integration tests a TimescaleDB to run against on
// machines without a TimescaleDB package: PGlite, PostgreSQL 17 compiled to
// WASM, with TimescaleDB 2.23 (compression and continuous aggregates
// included), served over the PostgreSQL wire protocol by
// tools/pglite/server.mjs. It is a test stand-in only; production runs on a
// real TimescaleDB server.
//
//	url := tsdbtest.Start(t)
//	pool, err := pgxpool.New(ctx, url)
//
// Start needs node and npm on PATH and runs "npm ci" in tools/pglite when
// node_modules is missing or older than package-lock.json. The first Start
// in a test binary starts the engine, which took 2 to 4 s on a 2-core
// machine. Each later Start resets it instead, in about 40 ms, by dropping
// what earlier tests created. A test that fails or breaks the session gets
// its engine replaced. The engine process ends with the test binary, even a
// killed one, because it exits when its stdin pipe closes.
//
// The engine runs a single backend session, which every connection shares:
//   - Tests that call Start must not call t.Parallel, and Start must be
//     called in the test that uses the URL, not in a parent of subtests
//     that call it too. Start fails the test otherwise.
//   - Session state is shared between connections: a SET, a temporary table
//     or an advisory lock taken on one connection holds on all of them, so
//     pg_advisory_lock excludes nobody and cases that need two real
//     sessions (concurrent writers, lock contention) cannot run here.
//   - The URL carries sslmode=disable (the engine speaks no TLS and a client
//     that asks for it waits until its timeout), pool_max_conns=1 and
//     default_query_exec_mode=cache_describe (a statement prepared by name
//     outlives its connection and the next client that prepares the same
//     SQL fails with SQLSTATE 42P05). Keep these parameters.
//
// Other differences from a real server:
//   - COPY FROM STDIN, and so pgx CopyFrom, breaks the session: insert with
//     INSERT … SELECT FROM unnest($1::type[], …) instead.
//   - No background workers: policies are registered but run only through
//     CALL run_job(id).
//   - A context that ends mid-query does not cancel it: the engine finishes
//     the statement, and every client waits for it.
//   - The backend starts with enable_seqscan=off, so plans differ from a
//     real server; assert on results, not on EXPLAIN output.
//   - RESET ALL and DISCARD ALL set search_path to pg_catalog, PGlite's
//     start-up value, which hides every table and TimescaleDB function in
//     public until search_path is set again.
package tsdbtest
