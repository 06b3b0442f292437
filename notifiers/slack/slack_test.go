package slack_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	_ "github.com/kamerrezz/theminidog/notifiers/slack"
)

func ptr[T any](v T) *T { return &v }

type request struct {
	header http.Header
	body   string
}

func receiver(t *testing.T) (*httptest.Server, chan request) {
	t.Helper()
	got := make(chan request, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{header: r.Header.Clone(), body: string(body)}
		_, _ = io.WriteString(w, "ok")
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

func TestSlackMessages(t *testing.T) {
	fired := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	resolved := fired.Add(3 * time.Minute)
	cases := []struct {
		name string
		ev   model.Event
		want string
	}{
		{
			"firing",
			model.Event{Event: model.EventFiring, RuleID: ptr("cpu-high"), Host: "host-a", Name: model.CPUUsagePct,
				Labels: map[string]string{"core": "total"}, Value: ptr(95.0), Threshold: ptr(90.0), FiredAt: &fired},
			`{"text":"[FIRING] cpu.usage_pct &gt; 90 on host-a (core=total): 95.0"}`,
		},
		{
			"resolved",
			model.Event{Event: model.EventResolved, RuleID: ptr("cpu-high"), Host: "host-a", Name: model.CPUUsagePct,
				Labels: map[string]string{"core": "total"}, Value: ptr(42.0), Threshold: ptr(90.0), FiredAt: &fired, ResolvedAt: &resolved},
			`{"text":"[RESOLVED] cpu.usage_pct on host-a (core=total): 42.0 (threshold 90), fired for 3m"}`,
		},
		{
			"host down with control characters in a label",
			model.Event{Event: model.EventHostDown, Host: "a<b>&c", FiredAt: &fired},
			`{"text":"[HOST DOWN] a&lt;b&gt;&amp;c stopped sending data (down since 2025-01-02T03:04:05Z)"}`,
		},
	}
	srv, got := receiver(t)
	n := build(t, `[{"type":"slack","url":"`+srv.URL+`/services/T0/B0/x"}]`)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := n.Notify(context.Background(), tc.ev); err != nil {
				t.Fatalf("Notify: %v", err)
			}

			req := <-got
			if req.body != tc.want {
				t.Errorf("body =\n%s\nwant\n%s", req.body, tc.want)
			}
			if ct := req.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

func TestSlackSendResolvedFalse(t *testing.T) {
	srv, got := receiver(t)
	n := build(t, `[{"type":"slack","url":"`+srv.URL+`","send_resolved":false}]`)

	if err := n.Notify(context.Background(), model.Event{Event: model.EventResolved, Host: "host-a"}); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if err := n.Notify(context.Background(), model.Event{Event: model.EventHostUp, Host: "host-a"}); err != nil {
		t.Fatalf("Notify: %v", err)
	}

	if req := <-got; !strings.HasPrefix(req.body, `{"text":"[HOST UP]`) {
		t.Errorf("first message = %s, want the host.up one: the resolved event must be skipped", req.body)
	}
}

func TestSlackConfigErrors(t *testing.T) {
	cases := map[string]string{
		`{"type":"slack"}`: "notifier 0 (slack): url: missing",
		`{"type":"slack","url":"hooks.slack.com/services"}`:               `url: unsupported scheme ""`,
		`{"type":"slack","url":"https://x.example.com","channel":"#ops"}`: "channel: unknown field",
	}
	for config, want := range cases {
		_, err := notifiers.Build("[" + config + "]")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s) error = %v, want it to contain %q", config, err, want)
		}
	}
}
