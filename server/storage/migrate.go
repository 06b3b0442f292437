package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	// The pgx v5 driver registers the pgx5:// scheme only; see
	// https://github.com/golang-migrate/migrate/issues/1035.
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/kamerrezz/theminidog/migrations"
)

// Migrator applies schema migrations with golang-migrate.
type Migrator struct {
	m   *migrate.Migrate
	log *slog.Logger
}

// DirtyError reports a migration that failed part-way and left the schema
// marked dirty. Its message says how to recover.
type DirtyError struct {
	Version uint
}

func (e *DirtyError) Error() string {
	prev := int(e.Version) - 1
	return fmt.Sprintf("database schema is dirty at migration version %d: a previous run of that migration failed. "+
		"Check which of its statements were applied, fix the migration, then run `miniobserv-server migrate force %d` and `miniobserv-server migrate up`",
		e.Version, prev)
}

// NewMigrator opens a migrator for databaseURL. Migrations come from the
// copy embedded in the binary, or from dir when dir is not empty.
func NewMigrator(databaseURL, dir string, log *slog.Logger) (*Migrator, error) {
	migrateURL, err := MigrateURL(databaseURL)
	if err != nil {
		return nil, err
	}

	var src fs.FS = migrations.FS
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("MIGRATIONS_PATH %q: %w", dir, err)
		}
		src = os.DirFS(dir)
	}
	driver, err := iofs.New(src, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}

	m, err := migrate.NewWithSourceInstance("iofs", driver, migrateURL)
	if err != nil {
		return nil, fmt.Errorf("open migrations: %w", classify(err))
	}
	return &Migrator{m: m, log: log}, nil
}

// MigrateURL rewrites a postgres://, postgresql:// or pgx5:// URL into the
// pgx5:// form golang-migrate's pgx v5 driver registers, and drops the pool
// settings that only pgxpool understands.
func MigrateURL(databaseURL string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	switch u.Scheme {
	case "postgres", "postgresql", "pgx5":
	default:
		return "", fmt.Errorf("DATABASE_URL scheme %q is not supported: use postgres:// or postgresql://", u.Scheme)
	}
	u.Scheme = "pgx5"

	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Up applies every pending migration. A dirty schema is reported as a
// *DirtyError and never cleared silently.
func (m *Migrator) Up() error {
	if err := m.checkDirty(); err != nil {
		return err
	}

	err := m.m.Up()
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	if err != nil {
		if dirtyErr := m.checkDirty(); dirtyErr != nil {
			return fmt.Errorf("%w (cause: %v)", dirtyErr, err)
		}
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Down reverts one migration.
func (m *Migrator) Down() error {
	if err := m.checkDirty(); err != nil {
		return err
	}
	if err := m.m.Steps(-1); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("revert migration: %w", err)
	}
	return nil
}

// Version returns the applied version and whether it is dirty; version 0
// means no migration has been applied.
func (m *Migrator) Version() (uint, bool, error) {
	v, dirty, err := m.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return v, dirty, err
}

// Force sets the recorded version and clears the dirty flag without running
// any migration. It is the manual recovery step after a failed migration.
func (m *Migrator) Force(version int) error {
	return m.m.Force(version)
}

// Close releases the migrator's database connection.
func (m *Migrator) Close() error {
	srcErr, dbErr := m.m.Close()
	return errors.Join(srcErr, dbErr)
}

func (m *Migrator) checkDirty() error {
	v, dirty, err := m.Version()
	if err != nil {
		return fmt.Errorf("read migration version: %w", err)
	}
	if dirty {
		return &DirtyError{Version: v}
	}
	return nil
}
