package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LatestQuery selects the series an alert rule watches.
type LatestQuery struct {
	Name string
	// Host limits the result to one host. Empty means every host.
	Host string
	// Labels keeps only series whose labels contain every pair.
	Labels map[string]string
	// Since drops values older than this time, so a series that stopped
	// reporting is left out.
	Since time.Time
}

// SeriesValue is the newest value of one series: one host and one full
// label set of a metric.
type SeriesValue struct {
	Host   string
	Labels map[string]string
	Time   time.Time
	Value  float64
}

// LatestValues returns the newest value of every series of q.Name that
// reported since q.Since, in one query, sorted by host and labels.
func (s *Store) LatestValues(ctx context.Context, q LatestQuery) ([]SeriesValue, error) {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	args := []any{q.Name, q.Since}
	where := "name = $1 AND time >= $2"
	if q.Host != "" {
		args = append(args, q.Host)
		where += fmt.Sprintf(" AND host = $%d", len(args))
	}
	if len(q.Labels) > 0 {
		args = append(args, labelsJSON(q.Labels))
		where += fmt.Sprintf(" AND labels @> $%d::jsonb", len(args))
	}

	sql := `SELECT DISTINCT ON (host, labels) host, labels, time, value
FROM metrics WHERE ` + where + `
ORDER BY host, labels, time DESC`
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("latest values of %s: %w", q.Name, classify(err))
	}
	values, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SeriesValue, error) {
		var v SeriesValue
		err := r.Scan(&v.Host, &v.Labels, &v.Time, &v.Value)
		v.Time = v.Time.UTC()
		if v.Labels == nil {
			v.Labels = map[string]string{}
		}
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("latest values of %s: %w", q.Name, classify(err))
	}
	return values, nil
}

// FiringAlert is one row of the firing_alerts table: an alert that fired and
// has not resolved.
type FiringAlert struct {
	RuleID     string
	Host       string
	Labels     map[string]string
	Name       string
	IncidentID string
	Value      float64
	FiredAt    time.Time
}

// SaveFiringAlert stores a firing alert, replacing the row of the same rule
// and series.
func (s *Store) SaveFiringAlert(ctx context.Context, a FiringAlert) error {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	_, err := s.pool.Exec(ctx, `
INSERT INTO firing_alerts (rule_id, host, labels, name, incident_id, value, fired_at)
VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)
ON CONFLICT (rule_id, host, labels) DO UPDATE SET
    name = EXCLUDED.name, incident_id = EXCLUDED.incident_id,
    value = EXCLUDED.value, fired_at = EXCLUDED.fired_at`,
		a.RuleID, a.Host, labelsJSON(a.Labels), a.Name, a.IncidentID, a.Value, a.FiredAt)
	if err != nil {
		return fmt.Errorf("save firing alert %s: %w", a.RuleID, classify(err))
	}
	return nil
}

// DeleteFiringAlert removes the firing alert of one rule and series, if
// stored.
func (s *Store) DeleteFiringAlert(ctx context.Context, ruleID, host string, labels map[string]string) error {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	_, err := s.pool.Exec(ctx,
		`DELETE FROM firing_alerts WHERE rule_id = $1 AND host = $2 AND labels = $3::jsonb`, ruleID, host, labelsJSON(labels))
	if err != nil {
		return fmt.Errorf("delete firing alert %s: %w", ruleID, classify(err))
	}
	return nil
}

// LoadFiringAlerts returns every stored firing alert, sorted by rule id,
// host and labels.
func (s *Store) LoadFiringAlerts(ctx context.Context) ([]FiringAlert, error) {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	rows, err := s.pool.Query(ctx, `
SELECT rule_id, host, labels, name, incident_id, value, fired_at
FROM firing_alerts ORDER BY rule_id, host, labels`)
	if err != nil {
		return nil, fmt.Errorf("load firing alerts: %w", classify(err))
	}
	alerts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FiringAlert, error) {
		var a FiringAlert
		err := r.Scan(&a.RuleID, &a.Host, &a.Labels, &a.Name, &a.IncidentID, &a.Value, &a.FiredAt)
		a.FiredAt = a.FiredAt.UTC()
		if a.Labels == nil {
			a.Labels = map[string]string{}
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("load firing alerts: %w", classify(err))
	}
	return alerts, nil
}
