package storage

import (
	"context"
	"fmt"
	"time"
)

// Retention sets how long each table keeps rows.
type Retention struct {
	Metrics time.Duration // raw metrics and their hourly rollup
	Logs    time.Duration
}

// maxCompressAfter is when TimescaleDB compresses a chunk, unless half the
// retention period is sooner.
const maxCompressAfter = 7 * 24 * time.Hour

// pruneBatchRows bounds each DELETE of the plain-mode retention job so it
// never holds locks on, or writes WAL for, millions of rows at once.
const pruneBatchRows = 10000

// ApplyPolicies registers TimescaleDB retention and compression policies
// for the configured periods, replacing earlier ones. In plain mode it does
// nothing; the server calls PruneExpired instead.
func (s *Store) ApplyPolicies(ctx context.Context, r Retention) error {
	if s.mode != ModeTimescaleDB {
		return nil
	}

	policies := []struct {
		table     string
		retention time.Duration
		compress  bool
	}{
		{"metrics", r.Metrics, true},
		{"logs", r.Logs, true},
		{"metrics_1h", r.Metrics, false},
	}
	for _, p := range policies {
		if err := s.replaceRetentionPolicy(ctx, p.table, p.retention); err != nil {
			return err
		}
		if p.compress {
			after := min(maxCompressAfter, p.retention/2)
			if err := s.replaceCompressionPolicy(ctx, p.table, after); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) replaceRetentionPolicy(ctx context.Context, table string, d time.Duration) error {
	_, err := s.pool.Exec(ctx, `SELECT remove_retention_policy($1::text::regclass, if_exists => true)`, table)
	if err == nil {
		_, err = s.pool.Exec(ctx, `SELECT add_retention_policy($1::text::regclass, drop_after => $2::interval)`, table, d)
	}
	if err != nil {
		return fmt.Errorf("set retention policy on %s: %w", table, classify(err))
	}
	return nil
}

func (s *Store) replaceCompressionPolicy(ctx context.Context, table string, after time.Duration) error {
	_, err := s.pool.Exec(ctx, `SELECT remove_compression_policy($1::text::regclass, if_exists => true)`, table)
	if err == nil {
		_, err = s.pool.Exec(ctx, `SELECT add_compression_policy($1::text::regclass, compress_after => $2::interval)`, table, after)
	}
	if err != nil {
		return fmt.Errorf("set compression policy on %s: %w", table, classify(err))
	}
	return nil
}

// PruneExpired deletes rows older than the retention periods, in bounded
// batches, and returns how many it deleted. It is the plain PostgreSQL
// stand-in for TimescaleDB's retention policies and does nothing on
// TimescaleDB.
func (s *Store) PruneExpired(ctx context.Context, now time.Time, r Retention) (int64, error) {
	if s.mode == ModeTimescaleDB {
		return 0, nil
	}

	targets := []struct {
		table, column string
		cutoff        time.Time
	}{
		{"metrics", "time", now.Add(-r.Metrics)},
		{"metrics_1h", "bucket", now.Add(-r.Metrics)},
		{"logs", "time", now.Add(-r.Logs)},
	}
	var total int64
	for _, t := range targets {
		n, err := s.pruneTable(ctx, t.table, t.column, t.cutoff)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// pruneTable deletes rows of table with column < cutoff, pruneBatchRows
// at a time. table and column come from PruneExpired's constant list.
func (s *Store) pruneTable(ctx context.Context, table, column string, cutoff time.Time) (int64, error) {
	sql := fmt.Sprintf(`DELETE FROM %[1]s WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM %[1]s WHERE %[2]s < $1 LIMIT %[3]d))`, table, column, pruneBatchRows)

	var total int64
	for {
		tag, err := s.pool.Exec(ctx, sql, cutoff)
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", table, classify(err))
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatchRows {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
