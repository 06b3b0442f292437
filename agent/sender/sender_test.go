package sender_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/agent/sender"
	"github.com/kamerrezz/theminidog/model"
)

// fastRetries keeps retry tests short where the wait itself is not tested.
func fastRetries(url string) sender.Config {
	return sender.Config{ServerURL: url, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, RetryMax: 3}
}

func newSender(t *testing.T, cfg sender.Config, opts ...sender.Option) *sender.Sender {
	t.Helper()
	opts = append([]sender.Option{sender.WithToken(testSecret, "web-1")}, opts...)
	s, err := sender.New(cfg, opts...)
	if err != nil {
		t.Fatalf("sender.New: %v", err)
	}
	return s
}

// testRetryAfterCapped sends one batch to a server that responds to the
// first request with 429 and the given Retry-After, far beyond the cap, and
// checks that the second attempt comes after the capped wait.
func testRetryAfterCapped(t *testing.T, retryAfter string) {
	const waitCap = time.Second
	srv := newFakeServer(t, func(n int, _ request) reply {
		if n == 0 {
			return reply{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": retryAfter}, body: `{"error":"slow down"}`}
		}
		return accepted()
	})
	s := newSender(t, sender.Config{ServerURL: srv.URL, RetryWaitMax: waitCap, RetryMax: 3})

	// The deadline only keeps a broken sender from hanging the test.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.SendMetrics(ctx, metricBatch("b-1", 2)); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}

	reqs := srv.recorded()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2", len(reqs))
	}
	gap := reqs[1].at.Sub(reqs[0].at)
	if gap < waitCap {
		t.Errorf("second attempt %s after the first, before the capped Retry-After of %s", gap, waitCap)
	}
	if gap > 10*time.Second {
		t.Errorf("second attempt %s after the first, want at most 10s with a %s cap", gap, waitCap)
	}
}

func TestRetryAfterSecondsIsCapped(t *testing.T) {
	t.Parallel()
	testRetryAfterCapped(t, "3600")
}

func TestRetryAfterDateIsCapped(t *testing.T) {
	t.Parallel()
	testRetryAfterCapped(t, time.Now().Add(24*time.Hour).UTC().Format(http.TimeFormat))
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(int, request) reply {
		return reply{status: http.StatusServiceUnavailable, header: map[string]string{"Retry-After": "3600"}, body: `{"error":"database down"}`}
	})
	s := newSender(t, sender.Config{ServerURL: srv.URL, RetryWaitMax: 10 * time.Second, RetryMax: 3})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.SendMetrics(ctx, metricBatch("b-1", 1)) }()

	<-srv.arrived
	cancel()

	const shutdownBudget = 5 * time.Second
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SendMetrics error = %v, want context.Canceled", err)
		}
		var drop *sender.DropError
		if errors.As(err, &drop) {
			t.Errorf("cancelled batch reported as dropped for good: %v", err)
		}
	case <-time.After(shutdownBudget):
		t.Fatalf("SendMetrics still sleeping %s after cancel", shutdownBudget)
	}
	if n := len(srv.recorded()); n != 1 {
		t.Errorf("server got %d requests, want 1 before the cancel", n)
	}
}

func TestRetriesReuseBatchID(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(n int, _ request) reply {
		if n < 2 {
			return reply{status: http.StatusServiceUnavailable, body: `{"error":"try later"}`}
		}
		return accepted()
	})
	s := newSender(t, fastRetries(srv.URL))

	if err := s.SendMetrics(context.Background(), metricBatch("3f0c-id", 3)); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}

	reqs := srv.recorded()
	if len(reqs) != 3 {
		t.Fatalf("server got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.batchID != "3f0c-id" {
			t.Errorf("request %d batch_id = %q, want 3f0c-id", i, r.batchID)
		}
		if len(r.metrics) != 3 {
			t.Errorf("request %d carried %d points, want 3", i, len(r.metrics))
		}
	}
	if st := s.Stats(); st.Retries != 2 || st.Requests != 3 {
		t.Errorf("Stats = %+v, want 3 requests and 2 retries", st)
	}
}

func TestRetryableStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{408, 429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, func(int, request) reply { return reply{status: status, body: `{"error":"x"}`} })
			cfg := fastRetries(srv.URL)
			cfg.RetryMax = 2
			s := newSender(t, cfg)

			err := s.SendMetrics(context.Background(), metricBatch("b", 1))
			var temp *sender.TemporaryError
			if !errors.As(err, &temp) || !sender.Retryable(err) {
				t.Fatalf("SendMetrics error = %v, want *TemporaryError", err)
			}
			if temp.Status != status || temp.Attempts != 3 {
				t.Errorf("TemporaryError = %+v, want status %d after 3 attempts", temp, status)
			}
			if n := len(srv.recorded()); n != 3 {
				t.Errorf("server got %d requests, want 3 (RetryMax 2)", n)
			}
		})
	}
}

func TestConnectionErrorIsTemporary(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()

	cfg := fastRetries(url)
	cfg.RetryMax = 1
	s := newSender(t, cfg)

	err := s.SendMetrics(context.Background(), metricBatch("b", 1))
	if !sender.Retryable(err) {
		t.Fatalf("SendMetrics to a closed port: error = %v, want a retryable error", err)
	}
	if st := s.Stats(); st.Requests != 2 {
		t.Errorf("Requests = %d, want 2 (RetryMax 1)", st.Requests)
	}
}

func TestBadRequestIsDroppedAndLogged(t *testing.T) {
	t.Parallel()
	const serverMsg = "metrics[0].value: 120 is outside 0-100 for percentage metric cpu.usage_pct"
	srv := newFakeServer(t, func(int, request) reply {
		return reply{status: http.StatusBadRequest, body: fmt.Sprintf(`{"error":%q}`, serverMsg)}
	})
	logger, logs := newTestLogger()
	s := newSender(t, fastRetries(srv.URL), sender.WithLogger(logger))

	err := s.SendMetrics(context.Background(), metricBatch("bad-1", 4))

	var drop *sender.DropError
	if !errors.As(err, &drop) {
		t.Fatalf("SendMetrics error = %v, want *DropError", err)
	}
	if drop.Status != 400 || drop.Items != 4 || drop.Reason != serverMsg || drop.BatchID != "bad-1" {
		t.Errorf("DropError = %+v", drop)
	}
	if sender.Retryable(err) {
		t.Error("a 400 is reported as retryable")
	}
	if n := len(srv.recorded()); n != 1 {
		t.Errorf("server got %d requests, want 1: a 400 is not retried", n)
	}
	if text := logs.String(); !strings.Contains(text, serverMsg) || !strings.Contains(text, `"batch_id":"bad-1"`) {
		t.Errorf("log lacks the server's error or the batch id:\n%s", text)
	}
	if st := s.Stats(); st.DroppedBatches != 1 || st.DroppedItems != 4 {
		t.Errorf("Stats = %+v, want 1 batch and 4 items dropped", st)
	}
}

func TestNotImplementedIsDropped(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(int, request) reply { return reply{status: http.StatusNotImplemented, body: "no"} })
	s := newSender(t, fastRetries(srv.URL))

	var drop *sender.DropError
	if err := s.SendLogs(context.Background(), model.LogBatch{Host: "h", BatchID: "l", Entries: make([]model.LogEntry, 1)}); !errors.As(err, &drop) {
		t.Fatalf("SendLogs error = %v, want *DropError", err)
	}
	if n := len(srv.recorded()); n != 1 {
		t.Errorf("server got %d requests, want 1", n)
	}
}

func TestDuplicateIsDelivered(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(int, request) reply {
		return reply{status: http.StatusAccepted, body: `{"ingested":0,"duplicate":true}`}
	})
	s := newSender(t, fastRetries(srv.URL))

	if err := s.SendMetrics(context.Background(), metricBatch("dup", 1)); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}
	if st := s.Stats(); st.Delivered != 1 || st.Duplicates != 1 {
		t.Errorf("Stats = %+v, want 1 delivered duplicate", st)
	}
}

func TestTooLargeSplitsIntoHalves(t *testing.T) {
	t.Parallel()
	// The server takes at most two points per batch.
	srv := newFakeServer(t, func(_ int, r request) reply {
		if len(r.metrics) > 2 {
			return reply{status: http.StatusRequestEntityTooLarge, body: `{"error":"metrics: more than 2 items: split the batch"}`}
		}
		return accepted()
	})
	s := newSender(t, fastRetries(srv.URL))
	batch := metricBatch("root", 5)

	if err := s.SendMetrics(context.Background(), batch); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}

	var ids []string
	var stored []model.Metric
	for _, r := range srv.recorded() {
		ids = append(ids, r.batchID)
		if len(r.metrics) <= 2 {
			stored = append(stored, r.metrics...)
		}
	}
	wantIDs := []string{"root", "root-a", "root-b", "root-b-a", "root-b-b"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("batch ids sent = %v, want %v", ids, wantIDs)
	}
	if len(stored) != len(batch.Metrics) {
		t.Fatalf("accepted %d points, want %d", len(stored), len(batch.Metrics))
	}
	for i := range stored {
		if stored[i].Value != batch.Metrics[i].Value {
			t.Errorf("accepted point %d has value %v, want %v: halves must partition the batch in order", i, stored[i].Value, batch.Metrics[i].Value)
		}
	}
	if st := s.Stats(); st.Splits != 2 {
		t.Errorf("Splits = %d, want 2", st.Splits)
	}
}

func TestTooLargeSingleItemIsDropped(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(int, request) reply {
		return reply{status: http.StatusRequestEntityTooLarge, body: `{"error":"body larger than 1 MiB"}`}
	})
	logger, logs := newTestLogger()
	s := newSender(t, fastRetries(srv.URL), sender.WithLogger(logger))
	batch := model.LogBatch{Host: "web-1", BatchID: "logs-1", Entries: []model.LogEntry{
		{Path: "/var/log/a", Level: "info", Message: "one"},
		{Path: "/var/log/a", Level: "info", Message: "two"},
	}}

	err := s.SendLogs(context.Background(), batch)

	var drop *sender.DropError
	if !errors.As(err, &drop) {
		t.Fatalf("SendLogs error = %v, want *DropError", err)
	}
	var ids []string
	for _, r := range srv.recorded() {
		ids = append(ids, r.batchID)
	}
	if want := []string{"logs-1", "logs-1-a", "logs-1-b"}; !slices.Equal(ids, want) {
		t.Errorf("batch ids sent = %v, want %v", ids, want)
	}
	for _, id := range []string{"logs-1-a", "logs-1-b"} {
		if !strings.Contains(logs.String(), `"batch_id":"`+id+`"`) {
			t.Errorf("no drop logged for %s:\n%s", id, logs)
		}
	}
	if st := s.Stats(); st.DroppedItems != 2 {
		t.Errorf("DroppedItems = %d, want 2", st.DroppedItems)
	}
}

func TestUnauthorizedRenewsTokenOnce(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(n int, _ request) reply {
		if n == 0 {
			return reply{status: http.StatusUnauthorized, body: `{"error":"token expired"}`}
		}
		return accepted()
	})
	s := newSender(t, fastRetries(srv.URL))

	if err := s.SendMetrics(context.Background(), metricBatch("b", 1)); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}

	reqs := srv.recorded()
	if len(reqs) != 2 {
		t.Fatalf("server got %d requests, want 2", len(reqs))
	}
	if reqs[0].token == reqs[1].token {
		t.Error("retry after 401 carried the same token")
	}
	if reqs[1].tokenErr != nil {
		t.Errorf("renewed token does not verify: %v", reqs[1].tokenErr)
	}
	if reqs[1].batchID != "b" {
		t.Errorf("retry after 401 has batch_id %q, want b", reqs[1].batchID)
	}
}

func TestUnauthorizedTwiceIsDropped(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(int, request) reply {
		return reply{status: http.StatusUnauthorized, body: `{"error":"invalid token signature"}`}
	})
	logger, logs := newTestLogger()
	s := newSender(t, fastRetries(srv.URL), sender.WithLogger(logger))

	err := s.SendMetrics(context.Background(), metricBatch("b", 1))

	var drop *sender.DropError
	if !errors.As(err, &drop) || drop.Status != http.StatusUnauthorized {
		t.Fatalf("SendMetrics error = %v, want *DropError with status 401", err)
	}
	if n := len(srv.recorded()); n != 2 {
		t.Errorf("server got %d requests, want 2: one renewal only", n)
	}
	if !strings.Contains(logs.String(), "invalid token signature") {
		t.Errorf("log lacks the server's error:\n%s", logs)
	}
}

func TestTokenClaims(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, nil)
	s := newSender(t, fastRetries(srv.URL))

	if err := s.SendMetrics(context.Background(), metricBatch("b", 1)); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}

	r := srv.recorded()[0]
	if r.tokenErr != nil {
		t.Fatalf("token does not verify with HS256, exp required and issuer checked: %v", r.tokenErr)
	}
	if sub, _ := r.claims.GetSubject(); sub != "web-1" {
		t.Errorf("sub = %q, want web-1", sub)
	}
	if r.claims["scope"] != "ingest" {
		t.Errorf("scope = %v, want ingest", r.claims["scope"])
	}
	iat, _ := r.claims.GetIssuedAt()
	exp, _ := r.claims.GetExpirationTime()
	if iat == nil || exp == nil {
		t.Fatalf("iat = %v, exp = %v; want both", iat, exp)
	}
	if ttl := exp.Sub(iat.Time); ttl != sender.DefaultTokenTTL {
		t.Errorf("exp - iat = %s, want %s", ttl, sender.DefaultTokenTTL)
	}
	if !strings.HasPrefix(r.header.Get("Authorization"), "Bearer ") {
		t.Errorf("Authorization = %q, want a Bearer token", r.header.Get("Authorization"))
	}
}

func TestTokenRenewedNearExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := newFakeServer(t, nil)
	srv.now = clock.Now
	s := newSender(t, fastRetries(srv.URL), sender.WithClock(clock.Now))

	send := func() request {
		t.Helper()
		if err := s.SendMetrics(context.Background(), metricBatch("b", 1)); err != nil {
			t.Fatalf("SendMetrics: %v", err)
		}
		reqs := srv.recorded()
		return reqs[len(reqs)-1]
	}

	first := send()
	clock.Advance(40 * time.Minute)
	second := send()
	clock.Advance(15 * time.Minute) // 55 minutes in: 5 minutes left
	third := send()
	clock.Advance(50 * time.Minute) // past the first token's expiry
	fourth := send()

	if first.token != second.token {
		t.Error("token renewed with 20 minutes of its hour left")
	}
	if third.token == second.token {
		t.Error("token not renewed with 5 minutes left")
	}
	for i, r := range []request{first, second, third, fourth} {
		if r.tokenErr != nil {
			t.Errorf("request %d: token rejected by the server's clock: %v", i, r.tokenErr)
		}
	}
	exp1, _ := first.claims.GetExpirationTime()
	exp3, _ := third.claims.GetExpirationTime()
	if exp1 == nil || exp3 == nil || !exp3.After(exp1.Time) {
		t.Errorf("renewed token expires at %v, not after the old one's %v", exp3, exp1)
	}
}

func TestServerURLForms(t *testing.T) {
	t.Parallel()
	tests := []struct{ suffix, wantMetrics, wantLogs string }{
		{"", "/api/v1/metrics", "/api/v1/logs"},
		{"/", "/api/v1/metrics", "/api/v1/logs"},
		{"/observ", "/observ/api/v1/metrics", "/observ/api/v1/logs"},
		{"/observ/", "/observ/api/v1/metrics", "/observ/api/v1/logs"},
	}
	for _, tc := range tests {
		t.Run("suffix="+tc.suffix, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, nil)
			s := newSender(t, fastRetries(srv.URL+tc.suffix))

			if err := s.SendMetrics(context.Background(), metricBatch("m", 1)); err != nil {
				t.Fatalf("SendMetrics: %v", err)
			}
			logs := model.LogBatch{Host: "h", BatchID: "l", Entries: []model.LogEntry{{Path: "/p", Level: "info", Message: "m"}}}
			if err := s.SendLogs(context.Background(), logs); err != nil {
				t.Fatalf("SendLogs: %v", err)
			}

			reqs := srv.recorded()
			if reqs[0].path != tc.wantMetrics || reqs[1].path != tc.wantLogs {
				t.Errorf("paths = %q, %q; want %q, %q", reqs[0].path, reqs[1].path, tc.wantMetrics, tc.wantLogs)
			}
		})
	}
}

func TestTLSWithRootCAs(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	trusted := newSender(t, fastRetries(srv.URL), sender.WithRootCAs(pool))
	if err := trusted.SendMetrics(context.Background(), metricBatch("b", 1)); err != nil {
		t.Errorf("SendMetrics with the server's CA: %v", err)
	}

	untrusted := newSender(t, fastRetries(srv.URL))
	err := untrusted.SendMetrics(context.Background(), metricBatch("b", 1))
	if err == nil {
		t.Fatal("SendMetrics succeeded without trusting the server's CA")
	}
	if st := untrusted.Stats(); st.Requests != 1 {
		t.Errorf("Requests = %d, want 1: an untrusted certificate is not retried at once", st.Requests)
	}
}

type traceKey struct{}

func TestTransportWrapperSeesContext(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, func(n int, _ request) reply {
		if n == 0 {
			return reply{status: http.StatusBadGateway}
		}
		return accepted()
	})
	wrap := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if v, ok := r.Context().Value(traceKey{}).(string); ok {
				r = r.Clone(r.Context())
				r.Header.Set("Traceparent", v)
			}
			return next.RoundTrip(r)
		})
	}
	s := newSender(t, fastRetries(srv.URL), sender.WithTransportWrapper(wrap))

	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := context.WithValue(context.Background(), traceKey{}, tp)
	if err := s.SendMetrics(ctx, metricBatch("b", 1)); err != nil {
		t.Fatalf("SendMetrics: %v", err)
	}

	for i, r := range srv.recorded() {
		if got := r.header.Get("Traceparent"); got != tp {
			t.Errorf("attempt %d traceparent = %q, want %q", i, got, tp)
		}
	}
}

func TestNewNeedsToken(t *testing.T) {
	t.Parallel()
	if _, err := sender.New(sender.Config{ServerURL: "http://127.0.0.1:1"}); err == nil {
		t.Error("New without a token succeeded")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
