package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Mode is the storage engine in use.
type Mode string

// Storage modes, as set by STORAGE_MODE.
const (
	ModeAuto        Mode = "auto"
	ModeTimescaleDB Mode = "timescaledb"
	ModePostgres    Mode = "postgres"
)

// ErrUnavailable wraps errors that a retry may cure: the database is
// unreachable, out of connections, or rolled the transaction back. The API
// returns 503 with Retry-After for them, so agents retry.
var ErrUnavailable = errors.New("database unavailable")

// Options configures Open.
type Options struct {
	// URL is a postgres:// or postgresql:// connection string; pool settings
	// such as pool_max_conns may be given as query parameters.
	URL string
	// Mode selects TimescaleDB or plain PostgreSQL; ModeAuto picks
	// TimescaleDB when the extension can be installed.
	Mode Mode
	// Tracer, when set, is installed on every connection (for OpenTelemetry).
	Tracer pgx.QueryTracer
	Logger *slog.Logger
}

// Store is the server's handle on the database.
type Store struct {
	pool *pgxpool.Pool
	mode Mode
	log  *slog.Logger
	// copyInsert selects COPY for metric inserts; engines without
	// COPY FROM STDIN use INSERT ... SELECT FROM unnest instead.
	copyInsert bool
	// watermark is the rollup's completed-hour mark in Unix nanoseconds,
	// 0 before the first refresh.
	watermark     atomic.Int64
	disableRollup atomic.Bool
}

// Open connects to the database and resolves the storage mode. With ModeAuto
// or ModeTimescaleDB it creates the timescaledb extension when the server
// offers it; ModeTimescaleDB fails when it does not.
func Open(ctx context.Context, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}

	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}

	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to the database in DATABASE_URL: %w", classify(err))
	}

	s := &Store{pool: pool, log: log, copyInsert: true}
	mode, err := s.resolveMode(ctx, opts.Mode)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.mode = mode
	return s, nil
}

func (s *Store) resolveMode(ctx context.Context, want Mode) (Mode, error) {
	if want == "" {
		want = ModeAuto
	}
	if want == ModePostgres {
		return ModePostgres, nil
	}

	var available bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')`).Scan(&available)
	if err != nil {
		return "", fmt.Errorf("check for the timescaledb extension: %w", classify(err))
	}

	if !available {
		if want == ModeTimescaleDB {
			return "", errors.New("STORAGE_MODE=timescaledb but the database server has no timescaledb extension: install TimescaleDB or set STORAGE_MODE=postgres")
		}
		s.log.Warn("timescaledb extension not available, using plain postgresql mode: retention runs in the server and there is no compression",
			"storage_mode", ModePostgres)
		return ModePostgres, nil
	}

	if _, err := s.pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS timescaledb`); err != nil {
		return "", fmt.Errorf("create extension timescaledb (needs a superuser or the extension preinstalled): %w", err)
	}
	return ModeTimescaleDB, nil
}

// SetCopyInsert turns the COPY insert path on or off. Engines without COPY
// FROM STDIN support need it off.
func (s *Store) SetCopyInsert(on bool) { s.copyInsert = on }

// Mode returns the resolved storage mode.
func (s *Store) Mode() Mode { return s.mode }

// Pool returns the connection pool, for pool statistics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database responds.
func (s *Store) Ping(ctx context.Context) error {
	return classify(s.pool.Ping(ctx))
}

// Close closes every pooled connection.
func (s *Store) Close() { s.pool.Close() }

// classify wraps errors that mean "the database cannot be reached" in
// ErrUnavailable and leaves errors the database returned as they are.
func classify(err error) error {
	if err == nil {
		return nil
	}

	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection exceptions, 53 insufficient resources (too
		// many connections), 40 transaction rollbacks (deadlock,
		// serialization failure), 57014 a statement timeout and 57P0x a
		// shutdown in progress: each may succeed when retried.
		code := pgErr.Code
		if len(code) == 5 && (code[:2] == "08" || code[:2] == "53" || code[:2] == "40" || code == "57014" || code[:4] == "57P0") {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}

	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// deadline bounds a storage call that the caller started without one.
func deadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// MatchSchema checks, after migrations, that the schema fits the resolved
// mode. A database first migrated without TimescaleDB keeps ordinary
// tables after the extension is installed. Such a store runs in plain mode
// with a warning, or fails when TimescaleDB was required.
func (s *Store) MatchSchema(ctx context.Context, want Mode) error {
	if s.mode != ModeTimescaleDB {
		return nil
	}

	var hypertable bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
WHERE hypertable_schema = current_schema() AND hypertable_name = 'metrics')`).Scan(&hypertable)
	if err != nil {
		return fmt.Errorf("check for the metrics hypertable: %w", classify(err))
	}
	if hypertable {
		return nil
	}

	const msg = "metrics is an ordinary table because the schema was created without TimescaleDB"
	if want == ModeTimescaleDB {
		return errors.New("STORAGE_MODE=timescaledb: " + msg + ": convert it with create_hypertable(..., migrate_data => true) or use STORAGE_MODE=postgres")
	}
	s.log.Warn(msg+": using plain postgresql mode", "storage_mode", ModePostgres)
	s.mode = ModePostgres
	return nil
}
