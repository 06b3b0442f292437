// Package migrations embeds the SQL schema migrations so the server binary
// carries them; MIGRATIONS_PATH points the server at a directory instead.
//
// One sequence serves both storage modes: statements that need TimescaleDB
// run inside DO blocks that first check pg_extension, so on plain PostgreSQL
// they are skipped and the same tables stay ordinary tables.
package migrations

import "embed"

// FS holds every *.sql migration file.
//
//go:embed *.sql
var FS embed.FS
