// Package api is the server's HTTP surface: ingest, queries, health and the
// routes other server parts (dashboard, logs, alerts, exporters) mount on
// it. Handlers validate input and call the storage package; none writes SQL.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/storage"
)

// retryAfterSeconds is sent with 503 responses while the database is down.
const retryAfterSeconds = "5"

// Heartbeater receives every accepted batch's host, so host liveness
// follows ingest. interval is the agent's collection interval, 0 when unknown.
type Heartbeater interface {
	Heartbeat(host string, interval time.Duration, at time.Time)
}

// Options configures the API.
type Options struct {
	Store            *storage.Store
	Guard            *auth.Guard
	Logger           *slog.Logger
	MaxBodyBytes     int64
	MetricsRetention time.Duration
	LogsRetention    time.Duration
	RequireHostMatch bool
	Heartbeat        Heartbeater
	// Tracer starts the validation span of each ingest; nil means no spans.
	Tracer trace.Tracer
	// Metrics counts ingested and rejected points; nil records nothing.
	Metrics *telemetry.ServerMetrics
	// Now defaults to time.Now.
	Now func() time.Time
}

// API holds the handlers' dependencies.
type API struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the API with its core routes registered.
func New(opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Tracer == nil {
		opts.Tracer = noop.NewTracerProvider().Tracer("")
	}
	a := &API{opts: opts, log: opts.Logger, mux: http.NewServeMux()}

	a.Handle("POST /api/v1/metrics", auth.ScopeIngest, http.HandlerFunc(a.ingestMetrics))
	a.Handle("GET /api/v1/metrics/query", auth.ScopeRead, http.HandlerFunc(a.queryMetrics))
	a.Handle("GET /api/v1/series", auth.ScopeRead, http.HandlerFunc(a.listSeries))
	a.Handle("POST /api/v1/logs", auth.ScopeIngest, http.HandlerFunc(a.ingestLogs))
	a.Handle("GET /api/v1/logs/query", auth.ScopeRead, http.HandlerFunc(a.queryLogs))
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.HandleFunc("GET /readyz", a.readyz)
	return a
}

// Handle mounts h at pattern ("METHOD /path") behind the credentials scope
// requires. An empty scope leaves the route open.
func (a *API) Handle(pattern, scope string, h http.Handler) {
	if scope != "" {
		_, path, _ := cutMethod(pattern)
		h = a.opts.Guard.Require(scope, path, h)
		if kind, ok := ingestKinds[path]; ok {
			h = a.countUnauthorized(kind, h)
		}
	}
	a.mux.Handle(pattern, h)
}

// ingestKinds maps the ingest paths to the batch kind their rejections
// are counted under.
var ingestKinds = map[string]telemetry.BatchKind{
	"/api/v1/metrics": telemetry.BatchMetrics,
	"/api/v1/logs":    telemetry.BatchLogs,
}

// countUnauthorized counts ingest requests the guard rejects, as one
// rejected item each: the body is never read, so the item count is unknown.
func (a *API) countUnauthorized(kind telemetry.BatchKind, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized || rec.status == http.StatusForbidden {
			a.countRejected(r, kind, telemetry.RejectUnauthorized, 1)
		}
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// HandleOpen mounts h without any credential check; h does its own.
func (a *API) HandleOpen(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// ServeHTTP serves the routes, turning a handler panic into a 500.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	a.mux.ServeHTTP(w, r)
}

func cutMethod(pattern string) (method, path string, ok bool) {
	for i := range len(pattern) {
		if pattern[i] == ' ' {
			return pattern[:i], pattern[i+1:], true
		}
	}
	return "", pattern, false
}

func (a *API) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	if err := a.opts.Store.Ping(r.Context()); err != nil {
		w.Header().Set("Retry-After", retryAfterSeconds)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

// WriteJSON writes v with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// WriteStorageError writes the response to a storage failure and returns the status sent: 503 with Retry-After when the
// database is unreachable, so clients retry, else 500. The cause is logged,
// not sent.
func (a *API) WriteStorageError(w http.ResponseWriter, r *http.Request, err error) int {
	if errors.Is(err, storage.ErrUnavailable) {
		a.log.Warn("storage unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeError(w, http.StatusServiceUnavailable, "storage unavailable: retry later")
		return http.StatusServiceUnavailable
	}
	a.log.Error("storage failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "storage failed: the server log has the cause")
	return http.StatusInternalServerError
}
