package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// rollupName is the rollup_state row of the hourly rollup.
const rollupName = "metrics_1h"

// rollupLookback is how far behind the completed-hour mark each refresh
// re-aggregates, so points that arrive a little late still reach the
// rollup. Older late points are only in the raw table.
const rollupLookback = 3 * time.Hour

// rollupCombine maps an aggregate to its form over rollup columns.
var rollupCombine = map[string]string{
	"avg":   "sum(sum) / sum(count)",
	"sum":   "sum(sum)",
	"count": "sum(count)",
	"min":   "min(min)",
	"max":   "max(max)",
}

// RefreshRollup brings the hourly rollup up to the last complete hour
// before now. On TimescaleDB it refreshes the continuous aggregate; on plain
// PostgreSQL it re-aggregates the window into the rollup table. It must run
// outside a transaction.
func (s *Store) RefreshRollup(ctx context.Context, now time.Time) error {
	upto := now.UTC().Truncate(time.Hour)
	prev, err := s.rollupWatermark(ctx)
	if err != nil {
		return err
	}
	from := prev.Add(-rollupLookback)
	if prev.IsZero() {
		from = upto.Add(-maxRollupBackfill)
	}
	if !from.Before(upto) {
		return nil
	}

	if s.mode == ModeTimescaleDB {
		_, err = s.pool.Exec(ctx, `CALL refresh_continuous_aggregate('metrics_1h', $1::timestamptz, $2::timestamptz)`, from, upto)
	} else {
		_, err = s.pool.Exec(ctx, `
INSERT INTO metrics_1h (bucket, host, name, labels, sum, count, min, max)
SELECT date_bin('1 hour', time, `+bucketOrigin+`), host, name, labels, sum(value), count(*), min(value), max(value)
FROM metrics WHERE time >= $1 AND time < $2
GROUP BY 1, host, name, labels
ON CONFLICT (host, name, labels, bucket) DO UPDATE
SET sum = EXCLUDED.sum, count = EXCLUDED.count, min = EXCLUDED.min, max = EXCLUDED.max`, from, upto)
	}
	if err != nil {
		return fmt.Errorf("refresh rollup: %w", classify(err))
	}

	_, err = s.pool.Exec(ctx, `INSERT INTO rollup_state (name, upto) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET upto = GREATEST(rollup_state.upto, EXCLUDED.upto)`, rollupName, upto)
	if err != nil {
		return fmt.Errorf("record rollup watermark: %w", classify(err))
	}
	s.watermark.Store(upto.UnixNano())
	return nil
}

// maxRollupBackfill bounds the first refresh, which covers the retention
// period of a typical deployment.
const maxRollupBackfill = 31 * 24 * time.Hour

func (s *Store) rollupWatermark(ctx context.Context) (time.Time, error) {
	var upto time.Time
	err := s.pool.QueryRow(ctx, `SELECT upto FROM rollup_state WHERE name = $1`, rollupName).Scan(&upto)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read rollup watermark: %w", classify(err))
	}
	return upto.UTC(), nil
}

// LoadRollupWatermark reads the rollup's progress into memory, so queries
// know which hours the rollup covers.
func (s *Store) LoadRollupWatermark(ctx context.Context) error {
	upto, err := s.rollupWatermark(ctx)
	if err != nil {
		return err
	}
	if !upto.IsZero() {
		s.watermark.Store(upto.UnixNano())
	}
	return nil
}

// rollupRange returns the whole hours inside [from, to) that the rollup
// covers, or ok=false when a query should read raw rows only.
func (s *Store) rollupRange(q Query) (start, end time.Time, ok bool) {
	if q.Bucket != "1h" && q.Bucket != "1d" || sumsInterfaces(q) || s.disableRollup.Load() {
		return start, end, false
	}
	w := s.watermark.Load()
	if w == 0 {
		return start, end, false
	}

	start = q.From.Truncate(time.Hour)
	if start.Before(q.From) {
		start = start.Add(time.Hour)
	}
	end = q.To.Truncate(time.Hour)
	if wm := time.Unix(0, w).UTC(); wm.Before(end) {
		end = wm
	}
	return start, end, start.Before(end)
}

// SetRollupQueries turns the use of the rollup by queries on or off, so
// benchmarks and tests can compare both paths.
func (s *Store) SetRollupQueries(on bool) { s.disableRollup.Store(!on) }
