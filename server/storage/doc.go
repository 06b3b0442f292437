// Package storage is the only place the server talks SQL. It owns the pgx
// connection pool, runs schema migrations, writes metric batches and answers
// bucketed queries, on TimescaleDB when the database has it and on plain
// PostgreSQL otherwise.
package storage
