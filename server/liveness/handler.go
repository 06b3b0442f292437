package liveness

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/kamerrezz/theminidog/server/alerting"
	"github.com/kamerrezz/theminidog/server/api"
	"github.com/kamerrezz/theminidog/server/auth"
)

// Routes mounts GET /api/v1/hosts (read scope) and DELETE
// /api/v1/hosts/{host} (ingest scope or an unscoped token: retiring a host
// changes state, so a read-only token must not do it).
func (t *Tracker) Routes(a *api.API) {
	a.Handle("GET /api/v1/hosts", auth.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		api.WriteJSON(w, http.StatusOK, map[string][]HostStatus{"hosts": t.Hosts(t.opts.Now())})
	}))
	a.Handle("DELETE /api/v1/hosts/{host}", auth.ScopeIngest, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.retireHandler(a, w, r)
	}))
}

type retireResponse struct {
	Host      string    `json:"host"`
	RetiredAt time.Time `json:"retired_at"`
}

func (t *Tracker) retireHandler(a *api.API, w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("host")
	at, err := t.Retire(r.Context(), name)
	if errors.Is(err, ErrUnknownHost) {
		api.WriteJSON(w, http.StatusNotFound, map[string]string{
			"error": fmt.Sprintf("host %q: not found or already retired: GET /api/v1/hosts lists the active hosts", name),
		})
		return
	}
	if err != nil {
		a.WriteStorageError(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, retireResponse{Host: name, RetiredAt: at.UTC()})
}

// The tracker is the API's heartbeat receiver and the evaluator's view of
// host liveness.
var (
	_ api.Heartbeater = (*Tracker)(nil)
	_ alerting.Hosts  = (*Tracker)(nil)
)
