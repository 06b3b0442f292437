package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	"github.com/kamerrezz/theminidog/notifiers/webhook"
)

type request struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// receiver records every request and responds with status.
func receiver(t *testing.T, status int) (*httptest.Server, chan request) {
	t.Helper()
	got := make(chan request, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{method: r.Method, path: r.URL.RequestURI(), header: r.Header.Clone(), body: body}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func ptr[T any](v T) *T { return &v }

func firingEvent() model.Event {
	fired := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return model.Event{
		Event:      model.EventFiring,
		RuleID:     ptr("cpu-high"),
		IncidentID: "inc-1",
		Host:       "host-a",
		Name:       model.CPUUsagePct,
		Labels:     map[string]string{"core": "total"},
		Value:      ptr(95.0),
		Threshold:  ptr(90.0),
		FiredAt:    &fired,
	}
}

const firingBody = `{"event":"firing","rule_id":"cpu-high","incident_id":"inc-1","host":"host-a",` +
	`"name":"cpu.usage_pct","labels":{"core":"total"},"value":95,"threshold":90,` +
	`"fired_at":"2025-01-02T03:04:05Z","resolved_at":null}`

func build(t *testing.T, configJSON string) notifiers.Notifier {
	t.Helper()
	list, err := notifiers.Build(configJSON)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("Build returned %d notifiers, want 1", len(list))
	}
	return list[0]
}

func TestWebhookPostsEventBody(t *testing.T) {
	srv, got := receiver(t, http.StatusOK)
	n := build(t, `[{"type":"webhook","url":"`+srv.URL+`/hook?team=ops","headers":{"Authorization":"Bearer abc"}}]`)

	if err := n.Notify(context.Background(), firingEvent()); err != nil {
		t.Fatalf("Notify: %v", err)
	}

	req := <-got
	if req.method != http.MethodPost {
		t.Errorf("method = %s, want POST", req.method)
	}
	if req.path != "/hook?team=ops" {
		t.Errorf("path = %q, want /hook?team=ops", req.path)
	}
	if string(req.body) != firingBody {
		t.Errorf("body =\n%s\nwant\n%s", req.body, firingBody)
	}
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if auth := req.header.Get("Authorization"); auth != "Bearer abc" {
		t.Errorf("Authorization = %q, want the configured header", auth)
	}
	if sig := req.header.Get(webhook.HeaderSignature); sig != "" {
		t.Errorf("signature header %q sent without a secret", sig)
	}
	if ts := req.header.Get(webhook.HeaderTimestamp); ts != "" {
		t.Errorf("timestamp header %q sent without a secret", ts)
	}
}

func TestWebhookHostEventHasNullRuleID(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent)
	n := build(t, `[{"type":"webhook","url":"`+srv.URL+`"}]`)
	down := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := model.Event{Event: model.EventHostDown, IncidentID: "inc-2", Host: "host-b", FiredAt: &down}

	if err := n.Notify(context.Background(), ev); err != nil {
		t.Fatalf("Notify: %v", err)
	}

	want := `{"event":"host.down","rule_id":null,"incident_id":"inc-2","host":"host-b","name":"",` +
		`"labels":null,"value":null,"threshold":null,"fired_at":"2025-01-02T03:04:05Z","resolved_at":null}`
	if req := <-got; string(req.body) != want {
		t.Errorf("body =\n%s\nwant\n%s", req.body, want)
	}
}

func TestWebhookSignature(t *testing.T) {
	const secret = "correct horse battery staple"
	srv, got := receiver(t, http.StatusOK)
	n := build(t, `[{"type":"webhook","url":"`+srv.URL+`","secret":"`+secret+`"}]`)

	before := time.Now().Unix()
	if err := n.Notify(context.Background(), firingEvent()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	after := time.Now().Unix()
	req := <-got

	timestamp := req.header.Get("X-MiniObserv-Timestamp")
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		t.Fatalf("timestamp header %q is not unix seconds: %v", timestamp, err)
	}
	if secs < before || secs > after {
		t.Errorf("timestamp %d outside the send window [%d, %d]", secs, before, after)
	}

	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "." + string(req.body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if sig := req.header.Get("X-MiniObserv-Signature"); sig != want {
		t.Errorf("signature = %q, want %q recomputed from the received body", sig, want)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(firingBody)
	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	signed := http.Header{}
	signed.Set(webhook.HeaderTimestamp, ts)
	signed.Set(webhook.HeaderSignature, webhook.Sign(secret, ts, body))

	if err := webhook.Verify(secret, signed, body, now.Add(30*time.Second), time.Minute); err != nil {
		t.Errorf("Verify of a fresh, intact request: %v", err)
	}

	tampered := []byte(strings.Replace(firingBody, "95", "15", 1))
	if err := webhook.Verify(secret, signed, tampered, now, time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("Verify of a changed body = %v, want ErrBadSignature", err)
	}
	if err := webhook.Verify([]byte("other"), signed, body, now, time.Minute); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("Verify with another secret = %v, want ErrBadSignature", err)
	}
	if err := webhook.Verify(secret, signed, body, now.Add(10*time.Minute), time.Minute); !errors.Is(err, webhook.ErrStaleTimestamp) {
		t.Errorf("Verify ten minutes later = %v, want ErrStaleTimestamp", err)
	}
	if err := webhook.Verify(secret, http.Header{}, body, now, time.Minute); !errors.Is(err, webhook.ErrMissingSignature) {
		t.Errorf("Verify without headers = %v, want ErrMissingSignature", err)
	}
}

func TestWebhookSendResolved(t *testing.T) {
	resolved := firingEvent()
	resolved.Event = model.EventResolved
	at := resolved.FiredAt.Add(2 * time.Minute)
	resolved.ResolvedAt = &at

	cases := []struct {
		name         string
		setting      string
		wantRequests int64
	}{
		{"default sends", ``, 2},
		{"true sends", `,"send_resolved":true`, 2},
		{"false skips", `,"send_resolved":false`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
			}))
			defer srv.Close()
			n := build(t, `[{"type":"webhook","url":"`+srv.URL+`"`+tc.setting+`}]`)

			for _, ev := range []model.Event{firingEvent(), resolved} {
				if err := n.Notify(context.Background(), ev); err != nil {
					t.Fatalf("Notify %s: %v", ev.Event, err)
				}
			}

			if got := requests.Load(); got != tc.wantRequests {
				t.Errorf("requests = %d, want %d", got, tc.wantRequests)
			}
		})
	}
}

func TestWebhookStatusErrors(t *testing.T) {
	cases := []struct {
		status    int
		retryable bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusUnauthorized, false},
		{http.StatusNotFound, false},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			srv, _ := receiver(t, tc.status)
			n := build(t, `[{"type":"webhook","url":"`+srv.URL+`"}]`)

			err := n.Notify(context.Background(), firingEvent())

			var statusErr *notifiers.StatusError
			if !errors.As(err, &statusErr) {
				t.Fatalf("Notify error = %v, want a *notifiers.StatusError", err)
			}
			if statusErr.StatusCode != tc.status {
				t.Errorf("StatusCode = %d, want %d", statusErr.StatusCode, tc.status)
			}
			if got := notifiers.Retryable(err); got != tc.retryable {
				t.Errorf("Retryable = %v, want %v", got, tc.retryable)
			}
		})
	}
}

func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	var redirected atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { redirected.Store(true) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	n := build(t, `[{"type":"webhook","url":"`+srv.URL+`/old","secret":"x"}]`)

	err := n.Notify(context.Background(), firingEvent())

	if err == nil || !strings.Contains(err.Error(), "redirects are not followed") {
		t.Errorf("Notify error = %v, want one explaining that redirects are not followed", err)
	}
	if notifiers.Retryable(err) {
		t.Error("a redirect was reported as retryable")
	}
	if redirected.Load() {
		t.Error("the signed body was sent to the redirect target")
	}
}

func TestWebhookErrorHidesURLSecret(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	n := build(t, `[{"type":"webhook","url":"`+addr+`/T000/B000/tokenXYZ?key=qwerty"}]`)

	err := n.Notify(context.Background(), firingEvent())

	if err == nil {
		t.Fatal("Notify to a closed port succeeded")
	}
	for _, secret := range []string{"tokenXYZ", "qwerty"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains the URL secret %q", err, secret)
		}
	}
	if !notifiers.Retryable(err) {
		t.Errorf("connection refused was not retryable: %v", err)
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"missing url", `{"type":"webhook"}`, "notifier 0 (webhook): url: missing"},
		{"empty url", `{"type":"webhook","url":"  "}`, "url: missing"},
		{"bad scheme", `{"type":"webhook","url":"ftp://example.com/x"}`, `url: unsupported scheme "ftp": use an http:// or https:// address`},
		{"relative url", `{"type":"webhook","url":"/hook"}`, `url: unsupported scheme ""`},
		{"no host", `{"type":"webhook","url":"http:///hook"}`, "url: missing host"},
		{"unknown field", `{"type":"webhook","url":"http://127.0.0.1/","sekret":"x"}`, "sekret: unknown field: remove it or fix its spelling (accepted: headers, secret, send_resolved, type, url)"},
		{"wrong type", `{"type":"webhook","url":42}`, "url: invalid value: expected a string, got a JSON number"},
		{"send_resolved string", `{"type":"webhook","url":"http://127.0.0.1/","send_resolved":"no"}`, "send_resolved: invalid value: expected true or false"},
		{"reserved header", `{"type":"webhook","url":"http://127.0.0.1/","headers":{"content-type":"text/plain"}}`, "headers.content-type: reserved header"},
		{"bad header name", `{"type":"webhook","url":"http://127.0.0.1/","headers":{"X Bad":"1"}}`, "headers.X Bad: invalid header name"},
		{"header line break", `{"type":"webhook","url":"http://127.0.0.1/","headers":{"X-Team":"a\r\nHost: evil"}}`, "headers.X-Team: the value contains a line break"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notifiers.Build("[" + tc.config + "]")

			if err == nil {
				t.Fatalf("Build accepted %s", tc.config)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWebhookConfigErrorsAreJoined(t *testing.T) {
	_, err := webhook.New(webhook.Config{URL: "gopher://x", Headers: map[string]string{"Host": "x"}})

	if err == nil {
		t.Fatal("New accepted a bad scheme and a reserved header")
	}
	for _, want := range []string{"url: unsupported scheme", "headers.Host: reserved header"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %q, want it to contain %q", err, want)
		}
	}
}
