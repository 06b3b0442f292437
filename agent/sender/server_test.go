package sender_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamerrezz/theminidog/model"
)

const testSecret = "test-secret-0123456789"

// request is one request as the fake server received it.
type request struct {
	at      time.Time
	path    string
	header  http.Header
	batchID string
	host    string
	metrics []model.Metric
	entries []model.LogEntry
	// claims holds the verified token claims, or nil when the token did
	// not verify.
	claims   jwt.MapClaims
	tokenErr error
	token    string
}

// reply is the fake server's response to one request.
type reply struct {
	status int
	header map[string]string
	body   string
}

// fakeServer is an ingest endpoint that records every request, verifies
// its token the way the server does, and responds with what respond
// returns.
type fakeServer struct {
	*httptest.Server
	respond func(n int, r request) reply
	now     func() time.Time

	mu       sync.Mutex
	requests []request
	arrived  chan request
}

func newFakeServer(t *testing.T, respond func(n int, r request) reply) *fakeServer {
	t.Helper()
	f := &fakeServer{respond: respond, now: time.Now, arrived: make(chan request, 1000)}
	f.Server = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) handle(w http.ResponseWriter, r *http.Request) {
	got := request{at: time.Now(), path: r.URL.Path, header: r.Header.Clone()}

	var body struct {
		Host    string           `json:"host"`
		BatchID string           `json:"batch_id"`
		Metrics []model.Metric   `json:"metrics"`
		Entries []model.LogEntry `json:"entries"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, `{"error":"malformed JSON"}`, http.StatusBadRequest)
		return
	}
	got.batchID, got.host, got.metrics, got.entries = body.BatchID, body.Host, body.Metrics, body.Entries
	got.token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	got.claims, got.tokenErr = verifyToken(got.token, f.now)

	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, got)
	f.mu.Unlock()
	f.arrived <- got

	rep := reply{status: http.StatusAccepted, body: `{"ingested":1}`}
	if f.respond != nil {
		rep = f.respond(n, got)
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeServer) recorded() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// verifyToken parses a token with the checks the server applies.
func verifyToken(token string, now func() time.Time) (jwt.MapClaims, error) {
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer("miniobserv-agent"),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(now),
	)
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(testSecret), nil })
	if err != nil {
		return nil, err
	}
	return claims, nil
}

func accepted() reply { return reply{status: http.StatusAccepted, body: `{"ingested":1}`} }

// logBuffer is a concurrency-safe sink for a test logger.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func metricBatch(id string, n int) model.MetricBatch {
	b := model.MetricBatch{Host: "web-1", BatchID: id, IntervalSeconds: 10}
	now := time.Now().UTC()
	for i := range n {
		b.Metrics = append(b.Metrics, model.Metric{
			Time: now, Host: "web-1", Name: model.CPUUsagePct, Value: float64(i),
			Labels: map[string]string{"core": strings.Repeat("x", i%3+1)},
		})
	}
	return b
}
