package liveness_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/liveness"
	"github.com/kamerrezz/theminidog/server/storage"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	staleAfter = 20 * time.Second
	downAfter  = 50 * time.Second
)

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// recorder is a Sender that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []model.Event
}

func (r *recorder) Send(_ context.Context, ev model.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) take() []model.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func newTracker(t *testing.T, st *storage.Store, clk *clock, rec *recorder) *liveness.Tracker {
	t.Helper()
	tr, err := liveness.New(context.Background(), liveness.Options{
		StaleAfter: staleAfter, DownAfter: downAfter, Store: st, Sender: rec, Logger: quiet, Now: clk.Now,
	})
	if err != nil {
		t.Fatalf("new tracker: %v", err)
	}
	return tr
}

func openStore(t *testing.T) *storage.Store {
	t.Helper()
	url := pgtest.NewDatabase(t)
	m, err := storage.NewMigrator(url, "", quiet)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	defer m.Close()
	if err := m.Up(); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	st, err := storage.Open(context.Background(), storage.Options{URL: url, Mode: storage.ModePostgres, Logger: quiet})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

func statusOf(t *testing.T, tr *liveness.Tracker, host string, now time.Time) liveness.Status {
	t.Helper()
	for _, h := range tr.Hosts(now) {
		if h.Host == host {
			return h.Status
		}
	}
	t.Fatalf("host %q not listed", host)
	return ""
}

func TestHostGoesStaleDownAndUp(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{now: t0}
	rec := &recorder{}
	tr := newTracker(t, nil, clk, rec)
	tr.Heartbeat("web-1", 0, t0)

	steps := []struct {
		after time.Duration
		want  liveness.Status
	}{
		{0, liveness.StatusOK},
		{staleAfter, liveness.StatusOK},
		{staleAfter + time.Second, liveness.StatusStale},
		{downAfter, liveness.StatusStale},
		{downAfter + time.Second, liveness.StatusDown},
	}
	for _, s := range steps {
		now := t0.Add(s.after)
		if got := statusOf(t, tr, "web-1", now); got != s.want {
			t.Errorf("after %s: status %s, want %s", s.after, got, s.want)
		}
		tr.Check(now)
	}

	down := rec.take()
	if len(down) != 1 || down[0].Event != model.EventHostDown || down[0].Host != "web-1" {
		t.Fatalf("events = %+v, want one host.down for web-1", down)
	}
	if down[0].RuleID != nil || down[0].IncidentID == "" || down[0].ResolvedAt != nil {
		t.Fatalf("host.down = %+v, want no rule id, an incident id and no resolved_at", down[0])
	}
	downAt := t0.Add(downAfter + time.Second)
	if !down[0].FiredAt.Equal(downAt) {
		t.Fatalf("host.down fired_at = %s, want %s", down[0].FiredAt, downAt)
	}

	tr.Check(t0.Add(10 * time.Minute))
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("second check while down: %+v, want no event", events)
	}

	back := t0.Add(11 * time.Minute)
	tr.Heartbeat("web-1", 0, back)
	up := rec.take()
	if len(up) != 1 || up[0].Event != model.EventHostUp {
		t.Fatalf("events after the host reported = %+v, want one host.up", up)
	}
	if up[0].IncidentID != down[0].IncidentID || !up[0].FiredAt.Equal(downAt) || !up[0].ResolvedAt.Equal(back) {
		t.Fatalf("host.up = %+v, want incident %s fired at %s, resolved at %s", up[0], down[0].IncidentID, downAt, back)
	}
	if got := statusOf(t, tr, "web-1", back); got != liveness.StatusOK {
		t.Fatalf("status after host.up = %s, want ok", got)
	}

	// A second outage is a new incident.
	tr.Check(back.Add(downAfter + time.Second))
	again := rec.take()
	if len(again) != 1 || again[0].Event != model.EventHostDown || again[0].IncidentID == down[0].IncidentID {
		t.Fatalf("second outage: %+v, want one host.down with a new incident id", again)
	}
}

func TestThresholdsScaleWithInterval(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tr := newTracker(t, nil, &clock{now: t0}, &recorder{})
	// Every 30s: stale after 2×30s = 60s, down after 3×30s = 90s.
	tr.Heartbeat("slow", 30*time.Second, t0)

	for _, s := range []struct {
		after time.Duration
		want  liveness.Status
	}{
		{staleAfter + time.Second, liveness.StatusOK},
		{60 * time.Second, liveness.StatusOK},
		{61 * time.Second, liveness.StatusStale},
		{90 * time.Second, liveness.StatusStale},
		{91 * time.Second, liveness.StatusDown},
	} {
		if got := statusOf(t, tr, "slow", t0.Add(s.after)); got != s.want {
			t.Errorf("after %s: status %s, want %s", s.after, got, s.want)
		}
	}
	if got := tr.DownAfter("slow"); got != 90*time.Second {
		t.Errorf("DownAfter = %s, want 90s", got)
	}
	if got := tr.MaxDownAfter(); got != 90*time.Second {
		t.Errorf("MaxDownAfter = %s, want 90s", got)
	}
	hosts := tr.Hosts(t0)
	if hosts[0].IntervalSeconds == nil || *hosts[0].IntervalSeconds != 30 {
		t.Errorf("interval_seconds = %v, want 30", hosts[0].IntervalSeconds)
	}
}

func TestHostsSortedBySeverity(t *testing.T) {
	st := openStore(t)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	seed := storage.HostRecord{Host: "seeded", FirstSeen: t0, LastSeen: t0}
	if err := st.SaveHosts(context.Background(), []storage.HostRecord{seed}); err != nil {
		t.Fatalf("save hosts: %v", err)
	}

	start := t0.Add(10 * time.Minute)
	tr := newTracker(t, st, &clock{now: start}, &recorder{})
	tr.Heartbeat("b-ok", 0, start)
	tr.Heartbeat("a-ok", 0, start)
	tr.Heartbeat("stale", 0, start.Add(-staleAfter-time.Second))
	tr.Heartbeat("down", 0, start.Add(-downAfter-time.Second))

	var got []string
	for _, h := range tr.Hosts(start) {
		got = append(got, h.Host+"="+string(h.Status))
	}
	want := []string{"down=down", "stale=stale", "seeded=unknown", "a-ok=ok", "b-ok=ok"}
	if len(got) != len(want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hosts = %v, want %v", got, want)
		}
	}
}

func TestRestartSeedsHostsWithoutFalseDown(t *testing.T) {
	st := openStore(t)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	clk := &clock{now: t0}
	rec := &recorder{}
	first := newTracker(t, st, clk, rec)
	first.Heartbeat("back", 0, t0)
	first.Heartbeat("gone", 0, t0)
	if err := first.Flush(context.Background(), true); err != nil {
		t.Fatalf("flush: %v", err)
	}

	// The server was down for 10 minutes: both hosts are long silent.
	start := t0.Add(10 * time.Minute)
	clk.Set(start)
	second := newTracker(t, st, clk, rec)
	for _, h := range []string{"back", "gone"} {
		if got := statusOf(t, second, h, start); got != liveness.StatusUnknown {
			t.Errorf("%s after restart: status %s, want unknown", h, got)
		}
	}

	second.Check(start.Add(downAfter - time.Second))
	second.Heartbeat("back", 0, start.Add(downAfter-time.Second))
	// back reported at start+49s, so it stays up until start+99s.
	for _, at := range []time.Duration{downAfter, downAfter + time.Second, 90 * time.Second} {
		second.Check(start.Add(at))
	}

	events := rec.take()
	if len(events) != 1 || events[0].Event != model.EventHostDown || events[0].Host != "gone" {
		t.Fatalf("events = %+v, want exactly one host.down, for gone", events)
	}
	if got := statusOf(t, second, "back", start.Add(downAfter)); got != liveness.StatusOK {
		t.Errorf("back: status %s, want ok", got)
	}
	if got := statusOf(t, second, "gone", start.Add(downAfter)); got != liveness.StatusDown {
		t.Errorf("gone: status %s, want down", got)
	}
}

func TestRestartKeepsOpenDownIncident(t *testing.T) {
	st := openStore(t)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	clk := &clock{now: t0}
	rec := &recorder{}
	first := newTracker(t, st, clk, rec)
	first.Heartbeat("db-1", 0, t0)
	first.Check(t0.Add(downAfter + time.Second))
	down := rec.take()
	if len(down) != 1 {
		t.Fatalf("first run: %+v, want one host.down", down)
	}
	if err := first.Flush(context.Background(), true); err != nil {
		t.Fatalf("flush: %v", err)
	}

	start := t0.Add(10 * time.Minute)
	clk.Set(start)
	second := newTracker(t, st, clk, rec)
	second.Check(start.Add(downAfter + time.Second))
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("after restart: %+v, want no repeated host.down", events)
	}
	if got := statusOf(t, second, "db-1", start.Add(downAfter+time.Second)); got != liveness.StatusDown {
		t.Fatalf("status = %s, want down", got)
	}

	second.Heartbeat("db-1", 0, start.Add(2*time.Minute))
	up := rec.take()
	if len(up) != 1 || up[0].Event != model.EventHostUp || up[0].IncidentID != down[0].IncidentID {
		t.Fatalf("host.up = %+v, want one with incident %s", up, down[0].IncidentID)
	}
}

func TestWriteBehindAtMostOncePerMinute(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	clk := &clock{now: t0}
	tr := newTracker(t, st, clk, &recorder{})

	lastSeen := func() time.Time {
		t.Helper()
		recs, err := st.LoadHosts(ctx)
		if err != nil {
			t.Fatalf("load hosts: %v", err)
		}
		if len(recs) != 1 {
			t.Fatalf("stored hosts = %+v, want one", recs)
		}
		return recs[0].LastSeen
	}

	tr.Heartbeat("web-1", 10*time.Second, t0)
	tr.Tick(ctx)
	if got := lastSeen(); !got.Equal(t0) {
		t.Fatalf("new host: stored last_seen %s, want %s at the next tick", got, t0)
	}

	clk.Set(t0.Add(30 * time.Second))
	tr.Heartbeat("web-1", 10*time.Second, t0.Add(30*time.Second))
	tr.Tick(ctx)
	if got := lastSeen(); !got.Equal(t0) {
		t.Fatalf("30s later: stored last_seen %s, want still %s", got, t0)
	}

	clk.Set(t0.Add(time.Minute))
	tr.Tick(ctx)
	if got := lastSeen(); !got.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("a minute later: stored last_seen %s, want %s", got, t0.Add(30*time.Second))
	}

	clk.Set(t0.Add(70 * time.Second))
	tr.Heartbeat("web-1", 10*time.Second, t0.Add(70*time.Second))
	if err := tr.Flush(ctx, true); err != nil {
		t.Fatalf("final flush: %v", err)
	}
	if got := lastSeen(); !got.Equal(t0.Add(70 * time.Second)) {
		t.Fatalf("after the shutdown flush: stored last_seen %s, want %s", got, t0.Add(70*time.Second))
	}
}

func TestRetireHidesHostAndSilencesIt(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	clk := &clock{now: t0}
	rec := &recorder{}
	tr := newTracker(t, st, clk, rec)
	tr.Heartbeat("old", 0, t0)
	tr.Heartbeat("web-1", 0, t0)
	tr.Check(t0.Add(downAfter + time.Second))
	if got := len(rec.take()); got != 2 {
		t.Fatalf("got %d host.down events, want 2", got)
	}

	clk.Set(t0.Add(2 * time.Minute))
	if _, err := tr.Retire(ctx, "old"); err != nil {
		t.Fatalf("retire: %v", err)
	}
	if _, err := tr.Retire(ctx, "old"); err == nil {
		t.Fatalf("second retire succeeded, want ErrUnknownHost")
	}
	if _, err := tr.Retire(ctx, "never-seen"); err == nil {
		t.Fatalf("retire of an unknown host succeeded, want ErrUnknownHost")
	}
	if hosts := tr.Hosts(clk.Now()); len(hosts) != 1 || hosts[0].Host != "web-1" {
		t.Fatalf("hosts = %+v, want only web-1", hosts)
	}
	if !tr.Retired("old") || tr.Retired("web-1") {
		t.Fatalf("Retired(old) = %v, Retired(web-1) = %v; want true, false", tr.Retired("old"), tr.Retired("web-1"))
	}

	// Retirement survives a restart and a retired host never alerts.
	clk.Set(t0.Add(time.Hour))
	second := newTracker(t, st, clk, rec)
	second.Check(t0.Add(2 * time.Hour))
	for _, ev := range rec.take() {
		if ev.Host == "old" {
			t.Fatalf("retired host raised %+v", ev)
		}
	}
	if !second.Retired("old") {
		t.Fatalf("retirement lost across restart")
	}

	// A retired host that reports again is active, without a host.up.
	second.Heartbeat("old", 0, t0.Add(2*time.Hour))
	if second.Retired("old") {
		t.Fatalf("host still retired after reporting again")
	}
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("events after the retired host reported: %+v, want none", events)
	}
	if got := statusOf(t, second, "old", t0.Add(2*time.Hour)); got != liveness.StatusOK {
		t.Fatalf("status = %s, want ok", got)
	}
	if err := second.Flush(ctx, true); err != nil {
		t.Fatalf("flush: %v", err)
	}
	recs, _ := st.LoadHosts(ctx)
	for _, r := range recs {
		if r.Host == "old" && r.Retired() {
			t.Fatalf("stored record still retired: %+v", r)
		}
	}
}

func TestRetirementByCommandReachesRunningTracker(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	clk := &clock{now: t0}
	rec := &recorder{}
	tr := newTracker(t, st, clk, rec)
	tr.Heartbeat("old", 0, t0)
	tr.Heartbeat("web-1", 0, t0)
	tr.Tick(ctx)

	// The `hosts retire` command writes the database only.
	if _, err := st.RetireHost(ctx, "old"); err != nil {
		t.Fatalf("retire in the database: %v", err)
	}

	// A write-behind before the tracker has read the retirement back keeps it.
	tr.Heartbeat("web-1", 0, t0.Add(10*time.Second))
	if err := tr.Flush(ctx, true); err != nil {
		t.Fatalf("flush: %v", err)
	}

	clk.Set(t0.Add(time.Minute))
	tr.Tick(ctx)
	if !tr.Retired("old") {
		t.Fatalf("running tracker did not pick up the retirement within a minute")
	}
	tr.Check(t0.Add(time.Hour))
	for _, ev := range rec.take() {
		if ev.Host == "old" {
			t.Fatalf("retired host raised %+v", ev)
		}
	}
}
