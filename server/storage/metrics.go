package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kamerrezz/theminidog/model"
)

// Batch kinds recorded with each batch id.
const (
	kindMetrics = "metrics"
	kindLogs    = "logs"
)

// dedupWindow is how long a batch id is remembered.
const dedupWindow = 24 * time.Hour

// claimBatchSQL records a batch id and returns a row only when the id is new
// or was last seen outside the deduplication window.
const claimBatchSQL = `
INSERT INTO ingest_batches (batch_id, kind, received_at) VALUES ($1, $2, now())
ON CONFLICT (batch_id) DO UPDATE SET received_at = now(), kind = EXCLUDED.kind
    WHERE ingest_batches.received_at < now() - INTERVAL '24 hours'
RETURNING 1`

// insertMetricsUnnestSQL writes a whole batch in one statement, so it is
// atomic and takes one round trip.
const insertMetricsUnnestSQL = `
INSERT INTO metrics (time, host, name, value, labels)
SELECT t, h, n, v, l::jsonb
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::float8[], $5::text[]) AS u(t, h, n, v, l)`

// insertMetricsDedupSQL is insertMetricsUnnestSQL guarded by the batch id
// claim in the same statement: a duplicate id inserts no rows.
const insertMetricsDedupSQL = `
WITH claim AS (` + claimBatchSQL + `)
INSERT INTO metrics (time, host, name, value, labels)
SELECT t, h, n, v, l::jsonb
FROM unnest($3::timestamptz[], $4::text[], $5::text[], $6::float8[], $7::text[]) AS u(t, h, n, v, l)
WHERE EXISTS (SELECT 1 FROM claim)`

// InsertResult says what an insert stored.
type InsertResult struct {
	Inserted  int
	Duplicate bool
}

// InsertMetrics stores a validated batch, all or nothing. A batch whose id
// was stored within the last 24 hours stores nothing and reports Duplicate.
func (s *Store) InsertMetrics(ctx context.Context, b *model.MetricBatch) (InsertResult, error) {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	var (
		res InsertResult
		err error
	)
	if s.copyInsert {
		res, err = s.insertMetricsCopy(ctx, b)
	} else {
		res, err = s.insertMetricsUnnest(ctx, b)
	}
	if err != nil {
		return InsertResult{}, fmt.Errorf("insert metrics: %w", classify(err))
	}
	return res, nil
}

type metricColumns struct {
	times  []time.Time
	hosts  []string
	names  []string
	values []float64
	labels []string
}

func columnsOf(b *model.MetricBatch) metricColumns {
	n := len(b.Metrics)
	c := metricColumns{
		times:  make([]time.Time, n),
		hosts:  make([]string, n),
		names:  make([]string, n),
		values: make([]float64, n),
		labels: make([]string, n),
	}
	for i, m := range b.Metrics {
		c.times[i] = m.Time
		c.hosts[i] = m.Host
		c.names[i] = m.Name
		c.values[i] = m.Value
		c.labels[i] = labelsJSON(m.Labels)
	}
	return c
}

// labelsJSON encodes a label set as a JSON object. Label keys are validated
// identifiers, so when every value is plain printable ASCII the object is
// written directly; anything else goes through encoding/json. The fast path
// matters because it runs once per stored point.
func labelsJSON(labels map[string]string) string {
	if len(labels) == 0 {
		return "{}"
	}
	if len(labels) == 1 {
		for k, v := range labels {
			if plainJSON(k) && plainJSON(v) {
				return `{"` + k + `":"` + v + `"}`
			}
		}
	}
	// Marshalling a map[string]string cannot fail.
	raw, _ := json.Marshal(labels)
	return string(raw)
}

// plainJSON reports whether s needs no escaping inside a JSON string.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (s *Store) insertMetricsUnnest(ctx context.Context, b *model.MetricBatch) (InsertResult, error) {
	c := columnsOf(b)

	var (
		tag pgconn.CommandTag
		err error
	)
	if b.BatchID == "" {
		tag, err = s.pool.Exec(ctx, insertMetricsUnnestSQL, c.times, c.hosts, c.names, c.values, c.labels)
	} else {
		tag, err = s.pool.Exec(ctx, insertMetricsDedupSQL, b.BatchID, kindMetrics, c.times, c.hosts, c.names, c.values, c.labels)
	}
	if err != nil {
		return InsertResult{}, err
	}

	n := int(tag.RowsAffected())
	return InsertResult{Inserted: n, Duplicate: b.BatchID != "" && n == 0}, nil
}

// insertMetricsCopy claims the batch id and copies the rows inside one
// transaction. COPY moves rows faster than any INSERT form, which outweighs
// the extra round trips for the BEGIN and the claim.
func (s *Store) insertMetricsCopy(ctx context.Context, b *model.MetricBatch) (InsertResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return InsertResult{}, err
	}
	// Rollback after Commit is a no-op; on every other path it releases
	// the connection back to the pool.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	if b.BatchID != "" {
		var one int
		err := tx.QueryRow(ctx, claimBatchSQL, b.BatchID, kindMetrics).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return InsertResult{Duplicate: true}, nil
		}
		if err != nil {
			return InsertResult{}, err
		}
	}

	rows := make([][]any, len(b.Metrics))
	for i, m := range b.Metrics {
		rows[i] = []any{m.Time, m.Host, m.Name, m.Value, labelsJSON(m.Labels)}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"metrics"},
		[]string{"time", "host", "name", "value", "labels"}, pgx.CopyFromRows(rows))
	if err != nil {
		return InsertResult{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return InsertResult{}, err
	}
	return InsertResult{Inserted: int(n)}, nil
}

// PurgeBatchIDs deletes batch ids older than the deduplication window and
// returns how many it removed.
func (s *Store) PurgeBatchIDs(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM ingest_batches WHERE received_at < now() - $1::interval`, dedupWindow)
	if err != nil {
		return 0, fmt.Errorf("purge batch ids: %w", classify(err))
	}
	return tag.RowsAffected(), nil
}
