package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrHostNotFound is returned by RetireHost for a host the hosts table does
// not hold, or holds as already retired.
var ErrHostNotFound = errors.New("host not found")

// HostRecord is one row of the hosts table. Zero times and an empty incident
// id stand for SQL NULL.
type HostRecord struct {
	Host      string
	FirstSeen time.Time
	LastSeen  time.Time
	// Interval is the agent's collection interval, 0 when unknown.
	Interval time.Duration
	// RetiredAt is when the host was retired. A host that reported after
	// RetiredAt is active again.
	RetiredAt time.Time
	// DownSince and DownIncidentID are set while a host.down event has been
	// sent and its host.up has not.
	DownSince      time.Time
	DownIncidentID string
}

// Retired reports whether the record describes a retired host: retired and
// silent since.
func (r HostRecord) Retired() bool {
	return !r.RetiredAt.IsZero() && !r.LastSeen.After(r.RetiredAt)
}

// saveHostSQL merges one in-memory host record into the table. The row keeps
// the earliest first_seen and the latest last_seen, so a delayed write never
// moves them back. A retirement stored by another process (the `hosts
// retire` command) survives unless the host reported after it.
const saveHostSQL = `
INSERT INTO hosts (host, first_seen, last_seen, interval_seconds, retired_at, down_since, down_incident_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (host) DO UPDATE SET
    first_seen       = LEAST(hosts.first_seen, EXCLUDED.first_seen),
    last_seen        = GREATEST(hosts.last_seen, EXCLUDED.last_seen),
    interval_seconds = COALESCE(EXCLUDED.interval_seconds, hosts.interval_seconds),
    retired_at       = CASE
        WHEN EXCLUDED.retired_at IS NOT NULL THEN EXCLUDED.retired_at
        WHEN hosts.retired_at IS NOT NULL AND EXCLUDED.last_seen <= hosts.retired_at THEN hosts.retired_at
        ELSE NULL
    END,
    down_since       = EXCLUDED.down_since,
    down_incident_id = EXCLUDED.down_incident_id`

// SaveHosts writes host records in one round trip.
func (s *Store) SaveHosts(ctx context.Context, recs []HostRecord) error {
	if len(recs) == 0 {
		return nil
	}
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	batch := &pgx.Batch{}
	for _, r := range recs {
		var interval *float64
		if r.Interval > 0 {
			secs := r.Interval.Seconds()
			interval = &secs
		}
		batch.Queue(saveHostSQL, r.Host, r.FirstSeen, r.LastSeen, interval,
			nullTime(r.RetiredAt), nullTime(r.DownSince), nullString(r.DownIncidentID))
	}
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("save hosts: %w", classify(err))
	}
	return nil
}

// LoadHosts returns every row of the hosts table, retired hosts included,
// sorted by host name.
func (s *Store) LoadHosts(ctx context.Context) ([]HostRecord, error) {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	rows, err := s.pool.Query(ctx, `
SELECT host, first_seen, last_seen, interval_seconds, retired_at, down_since, down_incident_id
FROM hosts ORDER BY host`)
	if err != nil {
		return nil, fmt.Errorf("load hosts: %w", classify(err))
	}
	recs, err := pgx.CollectRows(rows, scanHostRecord)
	if err != nil {
		return nil, fmt.Errorf("load hosts: %w", classify(err))
	}
	return recs, nil
}

func scanHostRecord(row pgx.CollectableRow) (HostRecord, error) {
	var (
		r                    HostRecord
		interval             *float64
		retiredAt, downSince *time.Time
		downIncidentID       *string
	)
	if err := row.Scan(&r.Host, &r.FirstSeen, &r.LastSeen, &interval, &retiredAt, &downSince, &downIncidentID); err != nil {
		return r, err
	}

	r.FirstSeen = r.FirstSeen.UTC()
	r.LastSeen = r.LastSeen.UTC()
	if interval != nil {
		r.Interval = time.Duration(*interval * float64(time.Second))
	}
	if retiredAt != nil {
		r.RetiredAt = retiredAt.UTC()
	}
	if downSince != nil {
		r.DownSince = downSince.UTC()
	}
	if downIncidentID != nil {
		r.DownIncidentID = *downIncidentID
	}
	return r, nil
}

// RetireHost marks a host retired at the database's clock, or at its last
// report when that is later, and ends any open down incident without an
// event. It returns the retirement time, or ErrHostNotFound when the host is
// unknown or already retired.
func (s *Store) RetireHost(ctx context.Context, host string) (time.Time, error) {
	ctx, cancel := deadline(ctx, 30*time.Second)
	defer cancel()

	var at time.Time
	err := s.pool.QueryRow(ctx, `
UPDATE hosts SET retired_at = GREATEST(now(), last_seen), down_since = NULL, down_incident_id = NULL
WHERE host = $1 AND (retired_at IS NULL OR last_seen > retired_at)
RETURNING retired_at`, host).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("retire host %q: %w", host, ErrHostNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("retire host %q: %w", host, classify(err))
	}
	return at.UTC(), nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
