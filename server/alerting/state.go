package alerting

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// Alert states reported by the API. An alert whose condition does not hold
// is not tracked at all.
const (
	StatePending = "pending"
	StateFiring  = "firing"
)

// Event kinds the evaluator sends.
const (
	EventFiring   = model.EventFiring
	EventResolved = model.EventResolved
)

// Reasons a firing alert resolves, as logged.
const (
	reasonCleared = "cleared"
	reasonNoData  = "no data"
	reasonRetired = "host retired"
)

// ruleState holds the alerts of one rule, keyed by seriesKey.
type ruleState struct {
	rule Rule

	mu     sync.Mutex
	alerts map[string]*alert
}

// alert is one series of one rule in the pending or firing state.
type alert struct {
	host   string
	labels map[string]string
	state  string
	value  float64
	// activeAt is when the condition was first seen to hold.
	activeAt time.Time
	firedAt  time.Time
	// notifiedAt is when the last firing event was sent, for Repeat.
	notifiedAt time.Time
	// incidentID is drawn when the alert turns pending and kept through
	// firing to resolved; a new pending period draws a new one.
	incidentID string
}

// transitionKind is the kind of change an evaluation made to an alert.
type transitionKind int

const (
	kindFired transitionKind = iota
	kindRepeated
	kindResolved
)

// transition is an alert change that sends an event or touches storage. It
// carries a copy of the alert taken under the rule's lock.
type transition struct {
	kind   transitionKind
	alert  alert
	reason string
}

// observe advances the alert of one series given its newest value.
func (rs *ruleState) observe(key string, v storage.SeriesValue, now time.Time) []transition {
	r := &rs.rule
	a := rs.alerts[key]
	if a == nil {
		if !r.breaches(v.Value) {
			return nil
		}
		a = &alert{host: v.Host, labels: v.Labels, state: StatePending, activeAt: now, incidentID: uuid.NewString()}
		rs.alerts[key] = a
	}
	a.value = v.Value

	if a.state == StatePending {
		if !r.breaches(v.Value) {
			delete(rs.alerts, key)
			return nil
		}
		if now.Sub(a.activeAt) < time.Duration(r.For) {
			return nil
		}
		a.state, a.firedAt, a.notifiedAt = StateFiring, now, now
		return []transition{{kind: kindFired, alert: *a}}
	}

	if !r.keepsFiring(v.Value) {
		delete(rs.alerts, key)
		return []transition{{kind: kindResolved, alert: *a, reason: reasonCleared}}
	}
	if r.Repeat > 0 && now.Sub(a.notifiedAt) >= time.Duration(r.Repeat) {
		a.notifiedAt = now
		return []transition{{kind: kindRepeated, alert: *a}}
	}
	return nil
}

// vanish drops the alert of a series the last query did not return. A
// firing alert resolves; a pending one ends silently.
func (rs *ruleState) vanish(key string, a *alert, reason string) []transition {
	delete(rs.alerts, key)
	if a.state != StateFiring {
		return nil
	}
	return []transition{{kind: kindResolved, alert: *a, reason: reason}}
}

// event builds the notification for the alert. A resolved event carries
// the value that ended the alert, or the last value seen when its series
// stopped reporting.
func (a *alert) event(r Rule, kind string, now time.Time) model.Event {
	ruleID, threshold, value, firedAt := r.ID, r.Threshold, a.value, a.firedAt.UTC()
	ev := model.Event{
		Event:      kind,
		RuleID:     &ruleID,
		IncidentID: a.incidentID,
		Host:       a.host,
		Name:       r.Name,
		Labels:     maps.Clone(a.labels),
		Value:      &value,
		Threshold:  &threshold,
		FiredAt:    &firedAt,
	}
	if ev.Labels == nil {
		ev.Labels = map[string]string{}
	}
	if kind == EventResolved {
		resolvedAt := now.UTC()
		ev.ResolvedAt = &resolvedAt
	}
	return ev
}

// seriesKey identifies a series by host and full label set.
func seriesKey(host string, labels map[string]string) string {
	var b strings.Builder
	b.WriteString(host)
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString("\x00" + k + "=" + labels[k])
	}
	return b.String()
}
