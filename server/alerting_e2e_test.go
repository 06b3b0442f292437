package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/servertest"
)

// eventWait bounds each wait for a webhook; the thresholds under test are
// one or two seconds.
const eventWait = 20 * time.Second

// postSender delivers each event as JSON to a webhook URL, standing in for
// the notifier dispatcher.
type postSender struct{ url string }

func (s postSender) Send(ctx context.Context, ev model.Event) {
	body, _ := json.Marshal(ev)
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// receiver is an httptest webhook that passes every event to a channel.
func receiver(t *testing.T) (string, <-chan model.Event) {
	events := make(chan model.Event, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev model.Event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		events <- ev
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, events
}

// startServer runs a server on a fresh database with short liveness and
// evaluation periods, delivering events to sender.
func startServer(t *testing.T, rules string, sender server.Option) string {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.AgentToken = servertest.Secret
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.HostStaleAfter = time.Second
	cfg.HostDownAfter = 2 * time.Second
	cfg.AlertEvalEvery = 200 * time.Millisecond
	cfg.AlertRules = rules
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("MINIOBSERV_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(context.Background(), cfg, log, sender)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return "http://" + l.Addr().String()
}

func do(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

func postCPU(t *testing.T, base, host string, value float64) {
	t.Helper()
	batch := model.MetricBatch{Host: host, Metrics: []model.Metric{{
		Time: time.Now().UTC(), Name: model.CPUUsagePct, Value: value, Labels: map[string]string{"core": "total"},
	}}}
	if status, body := do(t, http.MethodPost, base+"/api/v1/metrics", servertest.AgentToken(t), batch); status != http.StatusAccepted {
		t.Fatalf("post metrics: status %d: %s", status, body)
	}
}

// inbox hands out received events by kind and host, keeping events that
// arrived before they were waited for.
type inbox struct {
	events  <-chan model.Event
	pending []model.Event
}

// wait returns the first event of kind for host, failing when none arrives
// within eventWait.
func (in *inbox) wait(t *testing.T, kind, host string) model.Event {
	t.Helper()
	for i, ev := range in.pending {
		if ev.Event == kind && ev.Host == host {
			in.pending = append(in.pending[:i], in.pending[i+1:]...)
			return ev
		}
	}

	deadline := time.After(eventWait)
	for {
		select {
		case ev := <-in.events:
			if ev.Event == kind && ev.Host == host {
				return ev
			}
			in.pending = append(in.pending, ev)
		case <-deadline:
			t.Fatalf("no %s event for %s within %s; received meanwhile %+v", kind, host, eventWait, in.pending)
		}
	}
}

func TestAlertAndHostEventsEndToEnd(t *testing.T) {
	url, events := receiver(t)
	in := &inbox{events: events}
	base := startServer(t, `[{"id": "cpu-high", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90, "labels": {"core": "total"}}]`,
		server.WithSender(postSender{url}))

	postCPU(t, base, "web-1", 97)
	fired := in.wait(t, model.EventFiring, "web-1")
	if fired.RuleID == nil || *fired.RuleID != "cpu-high" || *fired.Value != 97 || fired.Labels["core"] != "total" {
		t.Fatalf("firing event = %+v, want rule cpu-high with value 97 on core total", fired)
	}

	// The alert is listed while it fires; a fresh point keeps its data
	// recent.
	postCPU(t, base, "web-1", 97)
	status, body := do(t, http.MethodGet, base+"/api/v1/alerts", servertest.Token(t, auth.IssuerCLI, auth.ScopeRead, time.Hour), nil)
	var listed struct {
		Alerts []struct {
			ID    string `json:"id"`
			State string `json:"state"`
			Host  string `json:"host"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &listed); status != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/alerts: status %d, %v: %s", status, err, body)
	}
	if len(listed.Alerts) != 1 || listed.Alerts[0].ID != fired.IncidentID || listed.Alerts[0].State != "firing" {
		t.Fatalf("alerts = %s, want the firing alert %s", body, fired.IncidentID)
	}

	postCPU(t, base, "web-1", 12)
	resolved := in.wait(t, model.EventResolved, "web-1")
	if resolved.IncidentID != fired.IncidentID || *resolved.Value != 12 || resolved.ResolvedAt == nil {
		t.Fatalf("resolved event = %+v, want incident %s with value 12 and resolved_at", resolved, fired.IncidentID)
	}

	// web-1 stops posting: host.down follows HOST_DOWN_AFTER.
	down := in.wait(t, model.EventHostDown, "web-1")
	if down.RuleID != nil || down.IncidentID == "" {
		t.Fatalf("host.down = %+v, want a null rule id and an incident id", down)
	}
	status, body = do(t, http.MethodGet, base+"/api/v1/hosts", servertest.AgentToken(t), nil)
	if status != http.StatusOK || !bytes.Contains(body, []byte(`"status":"down"`)) {
		t.Fatalf("GET /api/v1/hosts: status %d: %s, want web-1 down", status, body)
	}

	postCPU(t, base, "web-1", 12)
	up := in.wait(t, model.EventHostUp, "web-1")
	if up.IncidentID != down.IncidentID {
		t.Fatalf("host.up incident %s, want the host.down incident %s", up.IncidentID, down.IncidentID)
	}
	if len(in.pending) != 0 {
		t.Fatalf("unexpected events: %+v", in.pending)
	}
}

func TestHostsEndpointAndRetire(t *testing.T) {
	inst := servertest.Start(t, nil)
	agent := servertest.AgentToken(t)
	read := servertest.Token(t, auth.IssuerCLI, auth.ScopeRead, time.Hour)
	postCPU(t, inst.URL, "web-2", 10)
	postCPU(t, inst.URL, "web-1", 10)

	status, body := do(t, http.MethodGet, inst.URL+"/api/v1/hosts", read, nil)
	var got struct {
		Hosts []map[string]any `json:"hosts"`
	}
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil {
		t.Fatalf("GET /api/v1/hosts: status %d, %v: %s", status, err, body)
	}
	if len(got.Hosts) != 2 || got.Hosts[0]["host"] != "web-1" || got.Hosts[0]["status"] != "ok" {
		t.Fatalf("hosts = %s, want web-1 and web-2, ok, sorted by name", body)
	}
	for _, key := range []string{"host", "status", "last_seen", "interval_seconds"} {
		if _, ok := got.Hosts[0][key]; !ok {
			t.Errorf("host entry has no %q key: %s", key, body)
		}
	}
	if seen, _ := time.Parse(time.RFC3339, fmt.Sprint(got.Hosts[0]["last_seen"])); seen.IsZero() || seen.Location() != time.UTC {
		t.Errorf("last_seen = %v, want an RFC 3339 UTC time", got.Hosts[0]["last_seen"])
	}

	if status, body := do(t, http.MethodGet, inst.URL+"/api/v1/hosts", "", nil); status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/hosts without a token: status %d: %s, want 401", status, body)
	}
	if status, body := do(t, http.MethodDelete, inst.URL+"/api/v1/hosts/web-2", read, nil); status != http.StatusForbidden {
		t.Errorf("DELETE with a read token: status %d: %s, want 403", status, body)
	}
	if status, body := do(t, http.MethodDelete, inst.URL+"/api/v1/hosts/web-2", agent, nil); status != http.StatusOK || !bytes.Contains(body, []byte(`"retired_at"`)) {
		t.Fatalf("DELETE web-2: status %d: %s, want 200 with retired_at", status, body)
	}
	if status, body := do(t, http.MethodDelete, inst.URL+"/api/v1/hosts/web-2", agent, nil); status != http.StatusNotFound {
		t.Errorf("second DELETE: status %d: %s, want 404", status, body)
	}
	if status, body := do(t, http.MethodDelete, inst.URL+"/api/v1/hosts/nobody", agent, nil); status != http.StatusNotFound || !bytes.Contains(body, []byte(`"error"`)) {
		t.Errorf("DELETE of an unknown host: status %d: %s, want 404 with an error", status, body)
	}

	_, body = do(t, http.MethodGet, inst.URL+"/api/v1/hosts", read, nil)
	if bytes.Contains(body, []byte("web-2")) {
		t.Fatalf("retired host still listed: %s", body)
	}

	// Reporting again brings the host back.
	postCPU(t, inst.URL, "web-2", 10)
	_, body = do(t, http.MethodGet, inst.URL+"/api/v1/hosts", read, nil)
	if !bytes.Contains(body, []byte("web-2")) {
		t.Fatalf("host that reported after retirement not listed: %s", body)
	}

	status, body = do(t, http.MethodGet, inst.URL+"/api/v1/alerts", read, nil)
	if status != http.StatusOK || string(bytes.TrimSpace(body)) != `{"alerts":[]}` {
		t.Fatalf("GET /api/v1/alerts without rules: status %d: %s, want an empty list", status, body)
	}
}

func TestInvalidRuleStopsStartup(t *testing.T) {
	cfg := config.Default()
	cfg.DatabaseURL = "postgres://127.0.0.1:1/unused"
	cfg.AgentToken = servertest.Secret
	cfg.AlertRules = `[{"id": "a", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 1},
		{"id": "disk", "host": "*", "name": "disk.usage", "op": ">", "threshold": 1}]`

	_, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(`ALERT_RULES: rules[1] (id "disk"): name: unknown metric "disk.usage"`)) {
		t.Fatalf("start with a bad rule: err = %v, want it to name rules[1] and its id", err)
	}
}
