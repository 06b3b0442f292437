package pagerduty_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	"github.com/kamerrezz/theminidog/notifiers/pagerduty"
)

const routingKey = "0123456789abcdef0123456789abcdef"

func ptr[T any](v T) *T { return &v }

var fired = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func firing() model.Event {
	return model.Event{
		Event: model.EventFiring, RuleID: ptr("cpu-high"), IncidentID: "inc-1", Host: "host-a",
		Name: model.CPUUsagePct, Labels: map[string]string{"core": "total"},
		Value: ptr(95.0), Threshold: ptr(90.0), FiredAt: &fired,
	}
}

// expectedKey applies the documented derivation to a canonical JSON array
// written out by hand.
func expectedKey(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return "miniobserv-" + hex.EncodeToString(sum[:])
}

func receiver(t *testing.T, status int) (*httptest.Server, chan string) {
	t.Helper()
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- string(body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func build(t *testing.T, configJSON string) notifiers.Notifier {
	t.Helper()
	list, err := notifiers.Build(configJSON)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return list[0]
}

func TestPagerDutyTriggerAndResolve(t *testing.T) {
	srv, got := receiver(t, http.StatusAccepted)
	n := build(t, `[{"type":"pagerduty","routing_key":"`+routingKey+`","url":"`+srv.URL+`/v2/enqueue"}]`)
	key := expectedKey(`["rule","cpu-high","host-a",{"core":"total"}]`)

	if err := n.Notify(context.Background(), firing()); err != nil {
		t.Fatalf("Notify firing: %v", err)
	}
	wantTrigger := `{"routing_key":"` + routingKey + `","event_action":"trigger","dedup_key":"` + key + `",` +
		`"client":"MiniObserv","payload":{"summary":"[FIRING] cpu.usage_pct > 90 on host-a (core=total): 95.0",` +
		`"source":"host-a","severity":"critical","timestamp":"2025-01-02T03:04:05Z","class":"cpu.usage_pct",` +
		`"custom_details":{"event":"firing","rule_id":"cpu-high","incident_id":"inc-1","host":"host-a",` +
		`"name":"cpu.usage_pct","labels":{"core":"total"},"value":95,"threshold":90,` +
		`"fired_at":"2025-01-02T03:04:05Z","resolved_at":null}}}`
	if body := <-got; body != wantTrigger {
		t.Errorf("trigger body =\n%s\nwant\n%s", body, wantTrigger)
	}

	resolved := firing()
	resolved.Event = model.EventResolved
	resolved.Value = ptr(40.0)
	resolved.ResolvedAt = ptr(fired.Add(time.Minute))
	if err := n.Notify(context.Background(), resolved); err != nil {
		t.Fatalf("Notify resolved: %v", err)
	}
	wantResolve := `{"routing_key":"` + routingKey + `","event_action":"resolve","dedup_key":"` + key + `"}`
	if body := <-got; body != wantResolve {
		t.Errorf("resolve body =\n%s\nwant\n%s", body, wantResolve)
	}
}

func TestPagerDutyHostEvents(t *testing.T) {
	srv, got := receiver(t, http.StatusAccepted)
	n := build(t, `[{"type":"pagerduty","routing_key":"`+routingKey+`","severity":"error","url":"`+srv.URL+`"}]`)
	key := expectedKey(`["host","host-b"]`)

	down := model.Event{Event: model.EventHostDown, IncidentID: "inc-9", Host: "host-b", FiredAt: &fired}
	if err := n.Notify(context.Background(), down); err != nil {
		t.Fatalf("Notify host.down: %v", err)
	}
	wantTrigger := `{"routing_key":"` + routingKey + `","event_action":"trigger","dedup_key":"` + key + `",` +
		`"client":"MiniObserv","payload":{"summary":"[HOST DOWN] host-b stopped sending data (down since 2025-01-02T03:04:05Z)",` +
		`"source":"host-b","severity":"error","timestamp":"2025-01-02T03:04:05Z",` +
		`"custom_details":{"event":"host.down","rule_id":null,"incident_id":"inc-9","host":"host-b","name":"",` +
		`"labels":null,"value":null,"threshold":null,"fired_at":"2025-01-02T03:04:05Z","resolved_at":null}}}`
	if body := <-got; body != wantTrigger {
		t.Errorf("host.down body =\n%s\nwant\n%s", body, wantTrigger)
	}

	up := model.Event{Event: model.EventHostUp, IncidentID: "inc-9", Host: "host-b", FiredAt: &fired, ResolvedAt: ptr(fired.Add(time.Minute))}
	if err := n.Notify(context.Background(), up); err != nil {
		t.Fatalf("Notify host.up: %v", err)
	}
	wantResolve := `{"routing_key":"` + routingKey + `","event_action":"resolve","dedup_key":"` + key + `"}`
	if body := <-got; body != wantResolve {
		t.Errorf("host.up body =\n%s\nwant\n%s", body, wantResolve)
	}
}

func TestDedupKeyStability(t *testing.T) {
	base := firing()

	again := firing()
	again.IncidentID = "inc-2"
	again.Value = ptr(99.0)
	again.FiredAt = ptr(fired.Add(time.Hour))
	if pagerduty.DedupKey(again) != pagerduty.DedupKey(base) {
		t.Error("the key changed with the incident, value or time; it must depend only on rule, host and labels")
	}

	for name, change := range map[string]func(*model.Event){
		"rule":   func(ev *model.Event) { ev.RuleID = ptr("cpu-very-high") },
		"host":   func(ev *model.Event) { ev.Host = "host-z" },
		"labels": func(ev *model.Event) { ev.Labels = map[string]string{"core": "0"} },
	} {
		ev := firing()
		change(&ev)
		if pagerduty.DedupKey(ev) == pagerduty.DedupKey(base) {
			t.Errorf("a different %s gave the same key", name)
		}
	}

	manyLabels := func() map[string]string {
		m := map[string]string{}
		for _, k := range []string{"z", "a", "m", "b", "y"} {
			m[k] = k + "-value"
		}
		return m
	}
	first, second := firing(), firing()
	first.Labels, second.Labels = manyLabels(), manyLabels()
	for range 20 {
		if pagerduty.DedupKey(first) != pagerduty.DedupKey(second) {
			t.Fatal("equal label sets gave different keys")
		}
	}
	if n := len(pagerduty.DedupKey(first)); n > 255 {
		t.Errorf("key is %d characters, the API allows 255", n)
	}
}

func TestPagerDutyTruncatesSummary(t *testing.T) {
	n, err := pagerduty.New(pagerduty.Config{RoutingKey: routingKey})
	if err != nil {
		t.Fatal(err)
	}
	ev := firing()
	ev.Labels = map[string]string{"note": strings.Repeat("ü", 2000)}

	summary := n.NewEvent(ev).Payload.Summary

	if c := utf8.RuneCountInString(summary); c > pagerduty.MaxSummaryLen {
		t.Errorf("summary is %d characters, limit %d", c, pagerduty.MaxSummaryLen)
	}
	if !strings.HasSuffix(summary, "…") {
		t.Error("cut summary does not end with an ellipsis")
	}
}

func TestPagerDutyDefaultURL(t *testing.T) {
	if pagerduty.DefaultURL != "https://events.pagerduty.com/v2/enqueue" {
		t.Errorf("DefaultURL = %q", pagerduty.DefaultURL)
	}
}

func TestPagerDutyRejectedEvent(t *testing.T) {
	srv, _ := receiver(t, http.StatusBadRequest)
	n := build(t, `[{"type":"pagerduty","routing_key":"`+routingKey+`","url":"`+srv.URL+`"}]`)

	err := n.Notify(context.Background(), firing())

	if err == nil || notifiers.Retryable(err) {
		t.Errorf("400 from the Events API: err %v, want a non-retryable error", err)
	}
}

func TestPagerDutyConfigErrors(t *testing.T) {
	cases := map[string]string{
		`{"type":"pagerduty"}`:                                                      "notifier 0 (pagerduty): routing_key: missing",
		`{"type":"pagerduty","routing_key":"short"}`:                                "routing_key: must be the 32-character Integration Key, got 5 characters",
		`{"type":"pagerduty","routing_key":"` + routingKey + `","severity":"high"}`: `severity: unknown severity "high": use one of critical, error, warning, info`,
		`{"type":"pagerduty","routing_key":"` + routingKey + `","url":"file:///x"}`: `url: unsupported scheme "file"`,
		`{"type":"pagerduty","routing_key":"` + routingKey + `","service_key":"x"}`: "service_key: unknown field",
	}
	for config, want := range cases {
		_, err := notifiers.Build("[" + config + "]")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s) error = %v, want it to contain %q", config, err, want)
		}
	}
}
