package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LatestValue is the newest stored point of one series, a series being one
// host, metric name and label set.
type LatestValue struct {
	Host   string
	Name   string
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// latestValuesSQL finds the newest point of every series in one statement.
//
// The pairs CTE walks the distinct (host, name) pairs with one index
// descent each on metrics_host_name_time_idx (a loose index scan), so its
// cost grows with the number of pairs, not with the rows stored. For each
// pair the newest two distinct timestamps come from the same index; their
// gap is the collection interval. Only rows within three intervals of the
// newest timestamp (at least minLatestWindow, at most $1) are read, and the
// newest row per label set is kept. So a label set missing from one or two
// collections stays, one gone for longer is dropped, and the heap rows read
// per scrape do not grow with the retention period. A host that stopped
// reporting keeps its last values until retention deletes them. Retired
// hosts are left out.
const latestValuesSQL = `
WITH RECURSIVE pairs AS (
    (SELECT host, name FROM metrics ORDER BY host, name LIMIT 1)
    UNION ALL
    SELECT following.host, following.name
    FROM pairs p
    CROSS JOIN LATERAL (
        SELECT m.host, m.name FROM metrics m
        WHERE (m.host, m.name) > (p.host, p.name)
        ORDER BY m.host, m.name
        LIMIT 1
    ) following
)
SELECT p.host, p.name, s.labels, s.value, s.time
FROM pairs p
CROSS JOIN LATERAL (
    SELECT max(t.time) AS newest, min(t.time) AS previous
    FROM (
        SELECT DISTINCT m.time FROM metrics m
        WHERE m.host = p.host AND m.name = p.name
        ORDER BY m.time DESC
        LIMIT 2
    ) t
) n
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (m.labels) m.labels, m.value, m.time
    FROM metrics m
    WHERE m.host = p.host AND m.name = p.name
      AND m.time >= n.newest - LEAST($1::interval, GREATEST(3 * (n.newest - n.previous), $2::interval))
    ORDER BY m.labels, m.time DESC
) s
WHERE NOT EXISTS (
    SELECT 1 FROM hosts h WHERE h.host = p.host AND h.retired_at IS NOT NULL
)
ORDER BY p.host, p.name, s.labels`

// minLatestWindow is the shortest look-back LatestSeries uses, so that two
// batches sent close together (an agent restarted right after a
// collection) do not shrink it to a few seconds.
const minLatestWindow = time.Minute

// LatestSeries returns the newest point of every stored series of every
// host not retired, sorted by host, name and labels. A label set counts as
// current when it was written within three collection intervals of its
// metric's newest point. The interval is the gap between the metric's two
// newest timestamps, which an outage can stretch to days, so maxWindow caps
// the look-back.
func (s *Store) LatestSeries(ctx context.Context, maxWindow time.Duration) ([]LatestValue, error) {
	if maxWindow < minLatestWindow {
		return nil, fmt.Errorf("latest values: window %s is shorter than the minimum %s", maxWindow, minLatestWindow)
	}

	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	rows, err := s.pool.Query(ctx, latestValuesSQL, maxWindow, minLatestWindow)
	if err != nil {
		return nil, fmt.Errorf("query latest values: %w", classify(err))
	}
	values, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LatestValue, error) {
		var v LatestValue
		err := r.Scan(&v.Host, &v.Name, &v.Labels, &v.Value, &v.Time)
		v.Time = v.Time.UTC()
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("query latest values: %w", classify(err))
	}
	return values, nil
}
