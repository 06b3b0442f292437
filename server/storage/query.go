package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/model"
)

// Buckets maps the API's bucket names to SQL interval literals. Only these
// constant strings are ever formatted into SQL.
var Buckets = map[string]string{
	"1m":  "1 minute",
	"5m":  "5 minutes",
	"15m": "15 minutes",
	"1h":  "1 hour",
	"1d":  "1 day",
}

// BucketDurations gives each bucket's length.
var BucketDurations = map[string]time.Duration{
	"1m":  time.Minute,
	"5m":  5 * time.Minute,
	"15m": 15 * time.Minute,
	"1h":  time.Hour,
	"1d":  24 * time.Hour,
}

// Aggs maps the API's aggregate names to SQL aggregate functions. Only these
// constant strings are ever formatted into SQL.
var Aggs = map[string]string{
	"avg":   "avg",
	"max":   "max",
	"min":   "min",
	"sum":   "sum",
	"count": "count",
}

// bucketOrigin is time_bucket's default origin, a Monday. date_bin with this
// origin returns exactly time_bucket's buckets, so both storage modes answer
// a query with the same bucket starts.
const bucketOrigin = "TIMESTAMPTZ '2000-01-03 00:00:00+00'"

// ErrNoRootMount is returned for a host-level disk query on a host that
// stores disk metrics but none for the "/" mount.
var ErrNoRootMount = errors.New(`host has no "/" mount`)

// Query selects one metric's points for one host.
type Query struct {
	Host   string
	Name   string
	From   time.Time // inclusive
	To     time.Time // exclusive
	Bucket string    // a key of Buckets
	Agg    string    // a key of Aggs
	// Labels keeps only rows whose labels contain every pair.
	Labels map[string]string
	// GroupBy, when set, returns one series per value of this label key.
	GroupBy string
}

// Point is one bucket of a series.
type Point struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// Series is the points of one label value when a query is grouped.
type Series struct {
	Labels map[string]string `json:"labels"`
	Points []Point           `json:"points"`
}

// QueryMetrics returns bucketed points, oldest first. Without label filters
// or grouping it returns the host-level series: cpu for core "total", disk
// for mount "/", and network summed over interfaces at each timestamp.
func (s *Store) QueryMetrics(ctx context.Context, q Query) ([]Point, error) {
	sql, args, err := s.buildQuery(q)
	if err != nil {
		return nil, err
	}

	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("query metrics: %w", classify(err))
	}
	points, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Point, error) {
		var p Point
		err := r.Scan(&p.Time, &p.Value)
		p.Time = p.Time.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("query metrics: %w", classify(err))
	}

	if len(points) == 0 && s.needsRootMount(q) {
		if err := s.checkRootMount(ctx, q); err != nil {
			return nil, err
		}
	}
	if points == nil {
		points = []Point{}
	}
	return points, nil
}

// QueryMetricSeries answers a grouped query: one series per value of
// q.GroupBy, sorted by that value.
func (s *Store) QueryMetricSeries(ctx context.Context, q Query) ([]Series, error) {
	if q.GroupBy == "" {
		return nil, errors.New("query metric series: GroupBy is empty")
	}
	sql, args, err := s.buildQuery(q)
	if err != nil {
		return nil, err
	}

	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("query metrics: %w", classify(err))
	}
	defer rows.Close()

	out := []Series{}
	for rows.Next() {
		var (
			group string
			p     Point
		)
		if err := rows.Scan(&group, &p.Time, &p.Value); err != nil {
			return nil, fmt.Errorf("query metrics: %w", err)
		}
		p.Time = p.Time.UTC()
		if n := len(out); n == 0 || out[n-1].Labels[q.GroupBy] != group {
			out = append(out, Series{Labels: map[string]string{q.GroupBy: group}, Points: []Point{}})
		}
		last := &out[len(out)-1]
		last.Points = append(last.Points, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query metrics: %w", classify(err))
	}
	return out, nil
}

func (s *Store) bucketExpr(bucket string) (string, error) {
	interval, ok := Buckets[bucket]
	if !ok {
		return "", fmt.Errorf("unknown bucket %q", bucket)
	}
	if s.mode == ModeTimescaleDB {
		return fmt.Sprintf("time_bucket('%s', time)", interval), nil
	}
	return fmt.Sprintf("date_bin('%s', time, %s)", interval, bucketOrigin), nil
}

// buildQuery assembles the SQL for q. Bucket and aggregate come from the
// constant maps; every user value is a bind parameter.
func (s *Store) buildQuery(q Query) (string, []any, error) {
	bucket, err := s.bucketExpr(q.Bucket)
	if err != nil {
		return "", nil, err
	}
	agg, ok := Aggs[q.Agg]
	if !ok {
		return "", nil, fmt.Errorf("unknown aggregate %q", q.Agg)
	}

	labels := effectiveLabels(q)
	args := []any{q.Host, q.Name, q.From, q.To}
	filter := "host = $1 AND name = $2"
	if len(labels) > 0 {
		raw, _ := json.Marshal(labels)
		args = append(args, string(raw))
		filter += fmt.Sprintf(" AND labels @> $%d::jsonb", len(args))
	}

	var source, value string
	if start, end, ok := s.rollupRange(q); ok {
		args = append(args, start, end)
		rs, re := len(args)-1, len(args)
		source = fmt.Sprintf(`(SELECT bucket AS time, labels, sum, count, min, max FROM metrics_1h
    WHERE %[1]s AND bucket >= $%[2]d AND bucket < $%[3]d
  UNION ALL
  SELECT time, labels, value, 1, value, value FROM metrics
    WHERE %[1]s AND ((time >= $3 AND time < $%[2]d) OR (time >= $%[3]d AND time < $4))) AS src`, filter, rs, re)
		value = rollupCombine[q.Agg]
	} else {
		source = "metrics WHERE " + filter + " AND time >= $3 AND time < $4"
		if sumsInterfaces(q) {
			source = "(SELECT time, sum(value) AS value FROM " + source + " GROUP BY time) AS per_time"
		} else {
			source = "(SELECT time, labels, value FROM " + source + ") AS src"
		}
		value = agg + "(value)"
	}

	if q.GroupBy != "" {
		args = append(args, q.GroupBy)
		k := len(args)
		sql := fmt.Sprintf(`SELECT labels->>$%d AS grp, %s AS bucket, (%s)::float8
FROM %s WHERE labels ? $%d
GROUP BY grp, bucket ORDER BY grp, bucket`, k, bucket, value, source, k)
		return sql, args, nil
	}
	sql := fmt.Sprintf(`SELECT %s AS bucket, (%s)::float8 FROM %s GROUP BY bucket ORDER BY bucket`, bucket, value, source)
	return sql, args, nil
}

// effectiveLabels adds the host-level default filter when the query names
// no labels and is not grouped.
func effectiveLabels(q Query) map[string]string {
	if len(q.Labels) > 0 || q.GroupBy != "" {
		return q.Labels
	}
	switch model.Metrics[q.Name].Label {
	case "core":
		return map[string]string{"core": "total"}
	case "mount":
		return map[string]string{"mount": "/"}
	}
	return nil
}

func sumsInterfaces(q Query) bool {
	return len(q.Labels) == 0 && q.GroupBy == "" && model.Metrics[q.Name].Label == "iface"
}

func (s *Store) needsRootMount(q Query) bool {
	return len(q.Labels) == 0 && q.GroupBy == "" && model.Metrics[q.Name].Label == "mount"
}

// checkRootMount returns ErrNoRootMount when the host has rows for the
// metric in the range, but none for "/".
func (s *Store) checkRootMount(ctx context.Context, q Query) error {
	var exists bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM metrics WHERE host = $1 AND name = $2 AND time >= $3 AND time < $4)`,
		q.Host, q.Name, q.From, q.To).Scan(&exists)
	if err != nil {
		return fmt.Errorf("query metrics: %w", classify(err))
	}
	if exists {
		return ErrNoRootMount
	}
	return nil
}

// ListSeries returns the distinct label sets stored for a host's metric
// since the given time, sorted by their JSON form. Hours the rollup covers
// are read from it, one row per series and hour. Raw rows are read only
// from the rollup's look-back window on, where late points may not be
// rolled up yet.
func (s *Store) ListSeries(ctx context.Context, host, name string, since time.Time) ([]map[string]string, error) {
	sql := `SELECT DISTINCT labels FROM metrics WHERE host = $1 AND name = $2 AND time >= $3`
	args := []any{host, name, since}
	if w := s.watermark.Load(); w != 0 && !s.disableRollup.Load() {
		sql = `SELECT labels FROM metrics_1h WHERE host = $1 AND name = $2 AND bucket >= $3
UNION
SELECT labels FROM metrics WHERE host = $1 AND name = $2 AND time >= GREATEST($3, $4)`
		args = append(args, time.Unix(0, w).UTC().Add(-rollupLookback))
	}

	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", classify(err))
	}
	sets, err := pgx.CollectRows(rows, pgx.RowTo[map[string]string])
	if err != nil {
		return nil, fmt.Errorf("list series: %w", classify(err))
	}

	sort.Slice(sets, func(i, j int) bool { return labelKey(sets[i]) < labelKey(sets[j]) })
	if sets == nil {
		sets = []map[string]string{}
	}
	return sets, nil
}

func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + ",")
	}
	return b.String()
}
