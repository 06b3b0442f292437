package alerting

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/server/api"
	"github.com/kamerrezz/theminidog/server/auth"
)

// Alert is one pending or firing alert as GET /api/v1/alerts lists it.
type Alert struct {
	// ID is the alert's incident id; its firing and resolved events carry
	// the same id.
	ID        string            `json:"id"`
	Rule      Rule              `json:"rule"`
	Host      string            `json:"host"`
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels"`
	State     string            `json:"state"`
	Value     float64           `json:"value"`
	Threshold float64           `json:"threshold"`
	// Since is when the alert entered its current state.
	Since time.Time `json:"since"`
	// For is the rule's for duration.
	For Duration `json:"for"`
}

// Alerts returns the pending and firing alerts, firing first, then by rule
// id, host and labels.
func (e *Evaluator) Alerts() []Alert {
	out := []Alert{}
	for _, rs := range e.rules {
		rs.mu.Lock()
		for _, a := range rs.alerts {
			since := a.activeAt
			if a.state == StateFiring {
				since = a.firedAt
			}
			labels := a.labels
			if labels == nil {
				labels = map[string]string{}
			}
			out = append(out, Alert{
				ID: a.incidentID, Rule: rs.rule, Host: a.host, Name: rs.rule.Name, Labels: labels,
				State: a.state, Value: a.value, Threshold: rs.rule.Threshold, Since: since.UTC(), For: rs.rule.For,
			})
		}
		rs.mu.Unlock()
	}

	slices.SortFunc(out, func(x, y Alert) int {
		if x.State != y.State {
			if x.State == StateFiring {
				return -1
			}
			return 1
		}
		return strings.Compare(x.Rule.ID+"\x00"+seriesKey(x.Host, x.Labels), y.Rule.ID+"\x00"+seriesKey(y.Host, y.Labels))
	})
	return out
}

// Routes mounts GET /api/v1/alerts, which needs a read token.
func (e *Evaluator) Routes(a *api.API) {
	a.Handle("GET /api/v1/alerts", auth.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string][]Alert{"alerts": e.Alerts()})
	}))
}
