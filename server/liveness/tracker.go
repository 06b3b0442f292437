package liveness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/alerting"
	"github.com/kamerrezz/theminidog/server/storage"
)

// Status is a host's liveness as GET /api/v1/hosts reports it.
type Status string

// Host statuses, from most to least severe.
const (
	StatusDown    Status = "down"
	StatusStale   Status = "stale"
	StatusUnknown Status = "unknown"
	StatusOK      Status = "ok"
)

// severity orders statuses for listing, most severe first.
var severity = map[Status]int{StatusDown: 0, StatusStale: 1, StatusUnknown: 2, StatusOK: 3}

// writeEvery is the longest a host's last_seen waits in memory before it is
// written to the hosts table. New hosts, down and up transitions and
// retirements are written at the next tick instead.
const writeEvery = time.Minute

// syncEvery is how often the tracker reads back retirements that another
// process (the `hosts retire` command) stored.
const syncEvery = time.Minute

// ErrUnknownHost is returned by Retire for a host the tracker does not know
// or that is already retired.
var ErrUnknownHost = errors.New("unknown host")

// Options configures a Tracker.
type Options struct {
	// StaleAfter and DownAfter are HOST_STALE_AFTER and HOST_DOWN_AFTER. A
	// host's own thresholds are the longer of these and 2× (stale) or 3×
	// (down) its collection interval.
	StaleAfter time.Duration
	DownAfter  time.Duration
	// Store, when set, persists hosts; nil keeps them only in memory.
	Store *storage.Store
	// Sender receives host.down and host.up events. It is called from
	// Heartbeat (the ingest path) and Check, without the tracker's lock
	// held, so it must not block for long. The server passes an
	// alerting.Outbox. A nil Sender leaves events only logged.
	Sender alerting.Sender
	Logger *slog.Logger
	// Now is the clock; it defaults to time.Now.
	Now func() time.Time
}

// Tracker follows host liveness from accepted batches. It implements
// api.Heartbeater and alerting.Hosts.
type Tracker struct {
	opts    Options
	log     *slog.Logger
	started time.Time

	mu       sync.Mutex
	hosts    map[string]*host
	lastSync time.Time

	syncFailures  failureLog
	flushFailures failureLog
}

// host is the tracker's state of one host.
type host struct {
	name      string
	firstSeen time.Time
	lastSeen  time.Time
	interval  time.Duration
	retiredAt time.Time
	// reported is false for a host loaded from the table until its first
	// batch after this process started.
	reported bool
	// downSince and incidentID are set from host.down until host.up.
	downSince  time.Time
	incidentID string

	// version counts changes; written is the version last stored.
	version   uint64
	written   uint64
	writtenAt time.Time
	// urgent requests a write at the next tick instead of after writeEvery.
	urgent bool
}

func (h *host) retired() bool {
	return !h.retiredAt.IsZero() && !h.lastSeen.After(h.retiredAt)
}

func (h *host) touch(urgent bool) {
	h.version++
	h.urgent = h.urgent || urgent
}

func (h *host) record() storage.HostRecord {
	return storage.HostRecord{
		Host: h.name, FirstSeen: h.firstSeen, LastSeen: h.lastSeen, Interval: h.interval,
		RetiredAt: h.retiredAt, DownSince: h.downSince, DownIncidentID: h.incidentID,
	}
}

// New returns a tracker seeded with the hosts stored by earlier runs. They
// are unknown until they report, or until one down period has passed since
// New, after which a host that never reported is down.
func New(ctx context.Context, opts Options) (*Tracker, error) {
	if opts.StaleAfter <= 0 || opts.DownAfter <= opts.StaleAfter {
		return nil, fmt.Errorf("liveness: stale after %s and down after %s: both must be positive and down after the longer", opts.StaleAfter, opts.DownAfter)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}

	t := &Tracker{opts: opts, log: opts.Logger, hosts: map[string]*host{}}
	t.started = opts.Now()
	t.lastSync = t.started
	if opts.Store == nil {
		return t, nil
	}

	recs, err := opts.Store.LoadHosts(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		t.hosts[r.Host] = &host{
			name: r.Host, firstSeen: r.FirstSeen, lastSeen: r.LastSeen, interval: r.Interval,
			retiredAt: r.RetiredAt, downSince: r.DownSince, incidentID: r.DownIncidentID,
		}
	}
	t.log.Info("hosts loaded", "hosts", len(recs))
	return t, nil
}

// staleAfter and downAfter are h's thresholds.
func (t *Tracker) staleAfter(h *host) time.Duration { return max(t.opts.StaleAfter, 2*h.interval) }
func (t *Tracker) downAfter(h *host) time.Duration  { return max(t.opts.DownAfter, 3*h.interval) }

// status returns h's status at now. h must not be retired.
func (t *Tracker) status(h *host, now time.Time) Status {
	if !h.reported {
		if now.Sub(t.started) < t.downAfter(h) {
			return StatusUnknown
		}
		return StatusDown
	}

	silence := now.Sub(h.lastSeen)
	switch {
	case silence > t.downAfter(h):
		return StatusDown
	case silence > t.staleAfter(h):
		return StatusStale
	default:
		return StatusOK
	}
}

// Heartbeat records an accepted batch from name at the server time at.
// interval is the agent's collection interval, 0 when the batch did not
// carry one. A host that was down sends host.up; a retired host that
// reports again is active again, with no event.
func (t *Tracker) Heartbeat(name string, interval time.Duration, at time.Time) {
	t.mu.Lock()
	h := t.hosts[name]
	if h == nil {
		h = &host{name: name, firstSeen: at, lastSeen: at}
		t.hosts[name] = h
		h.touch(true)
		t.log.Info("new host", "host", name)
	}
	if h.retired() && at.After(h.retiredAt) {
		h.retiredAt = time.Time{}
		h.touch(true)
		t.log.Info("retired host reported again and is active", "host", name)
	}
	if at.After(h.lastSeen) {
		h.lastSeen = at
	}
	if interval > 0 && interval != h.interval {
		h.interval = interval
	}
	h.reported = true
	h.touch(false)

	var up *model.Event
	if !h.downSince.IsZero() {
		ev := hostEvent(model.EventHostUp, h, &at)
		up = &ev
		h.downSince, h.incidentID = time.Time{}, ""
		h.touch(true)
	}
	t.mu.Unlock()

	if up != nil {
		t.log.Info("host up", "host", name, "incident_id", up.IncidentID)
		t.send(*up)
	}
}

// Check finds hosts that went down since the last check and sends
// host.down for each, once per outage.
func (t *Tracker) Check(now time.Time) {
	var events []model.Event
	t.mu.Lock()
	for _, h := range t.hosts {
		if h.retired() || !h.downSince.IsZero() || t.status(h, now) != StatusDown {
			continue
		}
		h.downSince, h.incidentID = now, uuid.NewString()
		h.touch(true)
		events = append(events, hostEvent(model.EventHostDown, h, nil))
	}
	t.mu.Unlock()

	for _, ev := range events {
		t.log.Warn("host down", "host", ev.Host, "incident_id", ev.IncidentID)
		t.send(ev)
	}
}

// hostEvent builds a host.down or host.up event. Host events have no rule,
// metric, value or threshold.
func hostEvent(kind string, h *host, resolvedAt *time.Time) model.Event {
	firedAt := h.downSince.UTC()
	if resolvedAt != nil {
		utc := resolvedAt.UTC()
		resolvedAt = &utc
	}
	return model.Event{
		Event: kind, IncidentID: h.incidentID, Host: h.name, Labels: map[string]string{},
		FiredAt: &firedAt, ResolvedAt: resolvedAt,
	}
}

func (t *Tracker) send(ev model.Event) {
	if t.opts.Sender == nil {
		return
	}
	t.opts.Sender.Send(context.Background(), ev)
}

// HostStatus is one entry of GET /api/v1/hosts.
type HostStatus struct {
	Host   string `json:"host"`
	Status Status `json:"status"`
	// LastSeen is the server time of the last accepted batch, in UTC.
	LastSeen *time.Time `json:"last_seen"`
	// IntervalSeconds is the agent's collection interval, null when the
	// agent never sent one.
	IntervalSeconds *float64 `json:"interval_seconds"`
}

// Hosts returns the status of every host that is not retired, most severe
// status first, then by name.
func (t *Tracker) Hosts(now time.Time) []HostStatus {
	t.mu.Lock()
	out := make([]HostStatus, 0, len(t.hosts))
	for _, h := range t.hosts {
		if h.retired() {
			continue
		}
		hs := HostStatus{Host: h.name, Status: t.status(h, now)}
		if !h.lastSeen.IsZero() {
			seen := h.lastSeen.UTC()
			hs.LastSeen = &seen
		}
		if h.interval > 0 {
			secs := h.interval.Seconds()
			hs.IntervalSeconds = &secs
		}
		out = append(out, hs)
	}
	t.mu.Unlock()

	slices.SortFunc(out, func(a, b HostStatus) int {
		if d := severity[a.Status] - severity[b.Status]; d != 0 {
			return d
		}
		return strings.Compare(a.Host, b.Host)
	})
	return out
}

// Retire marks a host retired now: it leaves the host list, sends no
// host.down or host.up, and its firing alerts resolve. An open down
// incident ends without an event. The retirement is stored before it takes
// effect, so a store failure leaves the host as it was. A host that reports
// again afterwards is active again.
func (t *Tracker) Retire(ctx context.Context, name string) (time.Time, error) {
	now := t.opts.Now()
	t.mu.Lock()
	h := t.hosts[name]
	if h == nil || h.retired() {
		t.mu.Unlock()
		return time.Time{}, fmt.Errorf("retire host %q: %w", name, ErrUnknownHost)
	}
	at := now
	if h.lastSeen.After(at) {
		at = h.lastSeen
	}
	rec := h.record()
	rec.RetiredAt, rec.DownSince, rec.DownIncidentID = at, time.Time{}, ""
	t.mu.Unlock()

	if t.opts.Store != nil {
		if err := t.opts.Store.SaveHosts(ctx, []storage.HostRecord{rec}); err != nil {
			return time.Time{}, err
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if h.lastSeen.After(at) {
		// The host reported while the retirement was being stored, so it is
		// active; the next write clears the stored retirement.
		h.touch(true)
		return at, nil
	}
	h.retiredAt, h.downSince, h.incidentID = at, time.Time{}, ""
	h.touch(false)
	t.log.Info("host retired", "host", name, "retired_at", at)
	return at, nil
}

// Retired reports whether host is retired. Unknown hosts are not.
func (t *Tracker) Retired(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.hosts[name]
	return h != nil && h.retired()
}

// DownAfter returns the silence after which host counts as down; for an
// unknown host it is HOST_DOWN_AFTER.
func (t *Tracker) DownAfter(name string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.hosts[name]; h != nil {
		return t.downAfter(h)
	}
	return t.opts.DownAfter
}

// MaxDownAfter returns the longest DownAfter over all known hosts.
func (t *Tracker) MaxDownAfter() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	longest := t.opts.DownAfter
	for _, h := range t.hosts {
		longest = max(longest, t.downAfter(h))
	}
	return longest
}
