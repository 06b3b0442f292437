package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server/storage"
)

func loadHost(t *testing.T, st *storage.Store, name string) storage.HostRecord {
	t.Helper()
	recs, err := st.LoadHosts(context.Background())
	if err != nil {
		t.Fatalf("load hosts: %v", err)
	}
	for _, r := range recs {
		if r.Host == name {
			return r
		}
	}
	t.Fatalf("host %q not stored; stored: %+v", name, recs)
	return storage.HostRecord{}
}

func saveHosts(t *testing.T, st *storage.Store, recs ...storage.HostRecord) {
	t.Helper()
	if err := st.SaveHosts(context.Background(), recs); err != nil {
		t.Fatalf("save hosts: %v", err)
	}
}

func TestSaveHostsRoundTrip(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := storage.HostRecord{
		Host: "web-1", FirstSeen: t0, LastSeen: t0.Add(time.Minute), Interval: 10 * time.Second,
		DownSince: t0.Add(2 * time.Minute), DownIncidentID: "inc-1",
	}
	saveHosts(t, st, want, storage.HostRecord{Host: "db-1", FirstSeen: t0, LastSeen: t0})

	got := loadHost(t, st, "web-1")
	if got != want {
		t.Fatalf("loaded %+v, want %+v", got, want)
	}
	if db := loadHost(t, st, "db-1"); db.Interval != 0 || !db.RetiredAt.IsZero() || db.DownIncidentID != "" {
		t.Fatalf("db-1 = %+v, want no interval, retirement or incident", db)
	}
}

func TestSaveHostsKeepsEarliestAndLatest(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	saveHosts(t, st, storage.HostRecord{Host: "h", FirstSeen: t0, LastSeen: t0.Add(time.Hour), Interval: 10 * time.Second})

	// A delayed write with older times and no interval moves nothing back.
	saveHosts(t, st, storage.HostRecord{Host: "h", FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(time.Minute)})

	got := loadHost(t, st, "h")
	if !got.FirstSeen.Equal(t0) {
		t.Errorf("first_seen = %s, want %s", got.FirstSeen, t0)
	}
	if !got.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Errorf("last_seen = %s, want %s", got.LastSeen, t0.Add(time.Hour))
	}
	if got.Interval != 10*time.Second {
		t.Errorf("interval = %s, want 10s", got.Interval)
	}
}

func TestRetireHostSurvivesOlderWrite(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	seen := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	saveHosts(t, st, storage.HostRecord{Host: "old", FirstSeen: seen, LastSeen: seen, DownSince: seen.Add(time.Minute), DownIncidentID: "inc"})

	at, err := st.RetireHost(context.Background(), "old")
	if err != nil {
		t.Fatalf("retire: %v", err)
	}
	if !at.After(seen) {
		t.Fatalf("retired_at %s is not after last_seen %s", at, seen)
	}
	got := loadHost(t, st, "old")
	if !got.Retired() || got.DownIncidentID != "" || !got.DownSince.IsZero() {
		t.Fatalf("after retire: %+v, want retired with no open incident", got)
	}

	// A write-behind of state the writer had before the retirement keeps it.
	saveHosts(t, st, storage.HostRecord{Host: "old", FirstSeen: seen, LastSeen: seen})
	if got := loadHost(t, st, "old"); !got.Retired() {
		t.Fatalf("older write cleared the retirement: %+v", got)
	}

	// A report after the retirement makes the host active again.
	saveHosts(t, st, storage.HostRecord{Host: "old", FirstSeen: seen, LastSeen: at.Add(time.Second)})
	if got := loadHost(t, st, "old"); got.Retired() || !got.RetiredAt.IsZero() {
		t.Fatalf("newer report kept the retirement: %+v", got)
	}
}

func TestRetireHostNotFound(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	if _, err := st.RetireHost(context.Background(), "nope"); !errors.Is(err, storage.ErrHostNotFound) {
		t.Fatalf("retire unknown host: err = %v, want ErrHostNotFound", err)
	}

	seen := time.Now().UTC().Add(-time.Hour)
	saveHosts(t, st, storage.HostRecord{Host: "h", FirstSeen: seen, LastSeen: seen})
	if _, err := st.RetireHost(context.Background(), "h"); err != nil {
		t.Fatalf("first retire: %v", err)
	}
	if _, err := st.RetireHost(context.Background(), "h"); !errors.Is(err, storage.ErrHostNotFound) {
		t.Fatalf("second retire: err = %v, want ErrHostNotFound", err)
	}
}
