package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamerrezz/theminidog/agent"
	"github.com/kamerrezz/theminidog/agent/config"
	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

const testSecret = "agent-test-secret-0123"

// The fake collectors below share package state, so the tests of this
// package do not run in parallel.
var (
	// collectCalls receives a value on every fake_mem Collect call when set.
	collectCalls atomic.Pointer[chan struct{}]
	// hangRelease, when set, is closed to end the Collect calls of
	// fake_hang.
	hangRelease atomic.Pointer[chan struct{}]
)

type collectorFunc func(ctx context.Context) ([]model.Metric, error)

func (f collectorFunc) Collect(ctx context.Context) ([]model.Metric, error) { return f(ctx) }

func register(name string, metrics []string, newFunc func() collectorFunc) {
	collectors.Register(collectors.Registration{
		Name:    name,
		Metrics: metrics,
		New:     func(collectors.Config) (collectors.Collector, error) { return newFunc(), nil },
	})
}

func init() {
	register("fake_mem", []string{model.MemUsedPct, model.MemTotalBytes}, func() collectorFunc {
		return func(context.Context) ([]model.Metric, error) {
			if ch := collectCalls.Load(); ch != nil {
				select {
				case *ch <- struct{}{}:
				default:
				}
			}
			return []model.Metric{
				{Name: model.MemUsedPct, Value: 42.5},
				{Name: model.MemTotalBytes, Value: 8 << 30},
			}, nil
		}
	})

	register("fake_delta", []string{model.CPUUsagePct}, func() collectorFunc {
		calls := 0
		return func(context.Context) ([]model.Metric, error) {
			calls++
			if calls == 1 {
				return nil, nil // the baseline sample
			}
			return []model.Metric{{Name: model.CPUUsagePct, Value: 12.5, Labels: map[string]string{"core": "total"}}}, nil
		}
	})

	register("fake_partial", []string{model.DiskUsedPct}, func() collectorFunc {
		return func(context.Context) ([]model.Metric, error) {
			return []model.Metric{{Name: model.DiskUsedPct, Value: 55, Labels: map[string]string{"mount": "/"}}},
				errors.New("statfs /mnt/nfs: timed out")
		}
	})

	register("fake_bad", []string{model.NetBytesOut}, func() collectorFunc {
		return func(context.Context) ([]model.Metric, error) {
			return []model.Metric{
				{Name: model.NetBytesOut, Value: -5, Labels: map[string]string{"iface": "eth0"}},
				{Name: model.NetBytesOut, Value: 100, Labels: map[string]string{"iface": "eth1"}},
			}, nil
		}
	})

	register("fake_hang", []string{model.NetBytesIn}, func() collectorFunc {
		return func(context.Context) ([]model.Metric, error) {
			if release := hangRelease.Load(); release != nil {
				<-*release // ignores its context, like a statfs on a dead NFS mount
			}
			return nil, nil
		}
	})
}

// received is one request the fake server got.
type received struct {
	path   string
	status int
	body   struct {
		Host            string           `json:"host"`
		BatchID         string           `json:"batch_id"`
		IntervalSeconds float64          `json:"interval_seconds"`
		Metrics         []model.Metric   `json:"metrics"`
		Entries         []model.LogEntry `json:"entries"`
	}
	tokenErr error
}

// ingestServer records requests and responds with the status that
// respond returns, or 202 without respond.
type ingestServer struct {
	*httptest.Server
	respond func(r *received) (status int, header http.Header)

	mu       sync.Mutex
	requests []*received
	metrics  chan *received
	logs     chan *received
}

func newIngestServer(t *testing.T, respond func(r *received) (int, http.Header)) *ingestServer {
	t.Helper()
	s := &ingestServer{respond: respond, metrics: make(chan *received, 10000), logs: make(chan *received, 10000)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *ingestServer) handle(w http.ResponseWriter, r *http.Request) {
	got := &received{path: r.URL.Path, status: http.StatusAccepted}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &got.body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	got.tokenErr = verifyToken(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))

	header := http.Header{}
	if s.respond != nil {
		got.status, header = s.respond(got)
	}

	s.mu.Lock()
	s.requests = append(s.requests, got)
	s.mu.Unlock()
	if strings.HasSuffix(got.path, "/logs") {
		s.logs <- got
	} else {
		s.metrics <- got
	}

	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(got.status)
	_, _ = io.WriteString(w, `{"ingested":1}`)
}

// acceptedIDs returns the batch ids of the requests on the given path
// suffix that got a 2xx response.
func (s *ingestServer) acceptedIDs(suffix string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	ids := map[string]bool{}
	for _, r := range s.requests {
		if strings.HasSuffix(r.path, suffix) && r.status < 300 {
			ids[r.body.BatchID] = true
		}
	}
	return ids
}

func verifyToken(token string) error {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithIssuer("miniobserv-agent"), jwt.WithLeeway(30*time.Second))
	_, err := parser.Parse(token, func(*jwt.Token) (any, error) { return []byte(testSecret), nil })
	return err
}

// next waits for the next request on ch, failing the test after a bound
// that only matters when the agent is broken.
func next(t *testing.T, ch chan *received) *received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("no request arrived within 20s")
		return nil
	}
}

func testConfig(serverURL string, collectorNames ...string) config.Config {
	cfg := config.Default()
	cfg.ServerURL = serverURL
	cfg.AgentToken = testSecret
	cfg.AgentHost = "test-host"
	cfg.CollectInterval = 100 * time.Millisecond
	cfg.Collectors = collectorNames
	cfg.RetryWaitMax = 50 * time.Millisecond
	cfg.RetryMax = 2
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// runningAgent is an agent whose Run is in progress.
type runningAgent struct {
	*agent.Agent
	cancel context.CancelFunc
	done   chan error
	budget time.Duration
}

func startAgent(t *testing.T, cfg config.Config, opts ...agent.Option) *runningAgent {
	t.Helper()
	opts = append([]agent.Option{agent.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	a, err := agent.New(cfg, opts...)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAgent{Agent: a, cancel: cancel, done: make(chan error, 1), budget: cfg.ShutdownTimeout}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop cancels the agent's context, as SIGTERM does in the binary, and
// waits for Run. It fails the test when Run takes longer than the shutdown
// budget plus a margin for a loaded machine.
func (r *runningAgent) stop(t *testing.T) {
	t.Helper()
	r.cancel()

	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(r.budget + 3*time.Second):
		t.Fatalf("Run did not return within the %s shutdown budget", r.budget)
	}
}

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

// logLines returns the decoded JSON log records whose message is msg.
func logLines(t *testing.T, logs *logBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// fakeSource is a LogSource that emits a fixed list of entries and then
// waits for the end of its context.
type fakeSource struct {
	entries []model.LogEntry
}

func (s *fakeSource) Run(ctx context.Context, emit func(model.LogEntry)) error {
	for _, e := range s.entries {
		emit(e)
	}
	<-ctx.Done()
	return ctx.Err()
}
