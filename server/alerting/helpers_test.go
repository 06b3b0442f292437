package alerting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/alerting"
	"github.com/kamerrezz/theminidog/server/storage"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is the first evaluation time of most tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openStore migrates a fresh database and opens a store on it.
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

// put stores one point.
func put(t *testing.T, st *storage.Store, host, name string, labels map[string]string, at time.Time, v float64) {
	t.Helper()
	batch := &model.MetricBatch{Host: host, Metrics: []model.Metric{{Time: at, Host: host, Name: name, Value: v, Labels: labels}}}
	if _, err := st.InsertMetrics(context.Background(), batch); err != nil {
		t.Fatalf("insert %s=%v for %s: %v", name, v, host, err)
	}
}

func parseRules(t *testing.T, js string) []alerting.Rule {
	t.Helper()
	rules, err := alerting.ParseRules([]byte(js))
	if err != nil {
		t.Fatalf("parse rules: %v", err)
	}
	return rules
}

// recorder is a Sender that keeps every event, in order.
type recorder struct {
	mu     sync.Mutex
	events []model.Event
}

func (r *recorder) Send(_ context.Context, ev model.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// take returns the events received since the last call.
func (r *recorder) take() []model.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// webhook is an httptest receiver of event JSON bodies.
type webhook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newWebhook(t *testing.T) *webhook {
	wh := &webhook{}
	wh.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		wh.mu.Lock()
		wh.bodies = append(wh.bodies, body)
		wh.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(wh.srv.Close)
	return wh
}

// take returns the bodies received since the last call.
func (wh *webhook) take() []map[string]any {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	out := wh.bodies
	wh.bodies = nil
	return out
}

// postSender is a Sender that POSTs each event to a webhook and returns
// once the receiver has responded.
type postSender struct {
	t   *testing.T
	url string
}

func (s postSender) Send(ctx context.Context, ev model.Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		s.t.Errorf("encode event: %v", err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		s.t.Errorf("build webhook request: %v", err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Errorf("post event: %v", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		s.t.Errorf("webhook status = %d, want 204", resp.StatusCode)
	}
}

func newEvaluator(t *testing.T, st *storage.Store, rules []alerting.Rule, interval time.Duration, sender alerting.Sender, hosts alerting.Hosts) *alerting.Evaluator {
	t.Helper()
	opts := alerting.Options{Rules: rules, Interval: interval, Store: st, Sender: sender, Logger: quiet, Now: func() time.Time { return t0 }}
	if hosts != nil {
		opts.Hosts = hosts
	}
	ev, err := alerting.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("new evaluator: %v", err)
	}
	return ev
}

func evaluate(t *testing.T, ev *alerting.Evaluator, at time.Time) {
	t.Helper()
	if err := ev.Evaluate(context.Background(), at); err != nil {
		t.Fatalf("evaluate at %s: %v", at.Format(time.TimeOnly), err)
	}
}
