// Package server assembles the MiniObserv server: storage, migrations, the
// HTTP API, background jobs and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/kamerrezz/theminidog/internal/telemetry"
	_ "github.com/kamerrezz/theminidog/notifiers/all" // every built-in notifier type
	"github.com/kamerrezz/theminidog/server/alerting"
	"github.com/kamerrezz/theminidog/server/api"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/liveness"
	"github.com/kamerrezz/theminidog/server/promexport"
	"github.com/kamerrezz/theminidog/server/storage"
)

// outboxSize is how many notification events may wait for delivery before
// new ones are dropped.
const outboxSize = 1024

// Option adjusts how New builds the server.
type Option func(*options)

type options struct {
	sender alerting.Sender
	tel    *telemetry.Telemetry
}

// WithSender delivers alert and host events to sender (the notifier
// dispatcher). Without it, events are only logged.
func WithSender(sender alerting.Sender) Option {
	return func(o *options) { o.sender = sender }
}

// Server is a configured, migrated server ready to serve.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   *storage.Store
	tel     *telemetry.Telemetry
	metrics *telemetry.ServerMetrics
	guard   *auth.Guard
	api     *api.API
	http    *http.Server

	sender  alerting.Sender
	outbox  *alerting.Outbox
	tracker *liveness.Tracker
	alerts  *alerting.Evaluator

	jobs sync.WaitGroup
}

// WithTelemetry makes the server trace requests and storage calls and
// record its metrics through tel.
func WithTelemetry(tel *telemetry.Telemetry) Option {
	return func(o *options) { o.tel = tel }
}

// New opens the database, applies pending migrations and builds the HTTP
// handlers, host liveness and alerting. It fails on an invalid alert rule
// or notifier, a dirty schema or an unreachable database.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	rules, err := alerting.LoadRules(cfg.AlertRules, cfg.AlertRulesFile)
	if err != nil {
		return nil, err
	}
	metrics, err := telemetry.NewServerMetrics(o.tel.Meter())
	if err != nil {
		return nil, fmt.Errorf("create server metrics: %w", err)
	}
	if o.sender == nil {
		if o.sender, err = newDispatcher(cfg, log, o.tel, metrics); err != nil {
			return nil, err
		}
	}

	store, err := openStore(ctx, cfg, log, o.tel)
	if err != nil {
		return nil, err
	}

	s := &Server{cfg: cfg, log: log, store: store, tel: o.tel, metrics: metrics}
	if err := s.buildAlerting(ctx, rules, o.sender); err != nil {
		store.Close()
		return nil, err
	}
	s.guard = auth.NewGuard(cfg.AgentToken, cfg.PublicRead, cfg.TLSCertFile != "")
	s.api = api.New(api.Options{
		Store:            store,
		Guard:            s.guard,
		Logger:           log,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		MetricsRetention: cfg.MetricsRetention,
		LogsRetention:    cfg.LogsRetention,
		RequireHostMatch: cfg.RequireHostMatch,
		Heartbeat:        s.tracker,
		Tracer:           o.tel.Tracer(),
		Metrics:          metrics,
	})
	s.mountLogin()
	s.mountDashboard()
	s.tracker.Routes(s.api)
	s.alerts.Routes(s.api)
	promexport.Mount(s.api, store, log)

	s.http = &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           http.TimeoutHandler(o.tel.HTTPHandler(s.api, otelhttp.WithFilter(notProbe)), cfg.RequestTimeout, `{"error":"request timed out"}`),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// openStore connects to the database, applies pending migrations, settles
// the storage mode against the schema and registers retention policies. It
// closes the store again when any step fails.
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, tel *telemetry.Telemetry) (store *storage.Store, err error) {
	store, err = storage.Open(ctx, storage.Options{URL: cfg.DatabaseURL, Mode: storage.Mode(cfg.StorageMode), Logger: log, Tracer: tel.PgxTracer()})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()

	if _, err := telemetry.RegisterPoolMetrics(tel.Meter(), "miniobserv", telemetry.PgxPoolStat(store.Pool())); err != nil {
		return nil, fmt.Errorf("register pool metrics: %w", err)
	}
	if err := migrateUp(cfg, log); err != nil {
		return nil, err
	}
	if err := store.MatchSchema(ctx, storage.Mode(cfg.StorageMode)); err != nil {
		return nil, err
	}
	if err := store.ApplyPolicies(ctx, retention(cfg)); err != nil {
		return nil, err
	}
	if err := store.LoadRollupWatermark(ctx); err != nil {
		return nil, err
	}
	return store, nil
}

// notProbe keeps health probes out of traces and request metrics.
func notProbe(r *http.Request) bool {
	return r.URL.Path != "/healthz" && r.URL.Path != "/readyz"
}

// buildAlerting sets up the event outbox, the host liveness tracker (seeded
// from the hosts table) and the rule evaluator (resuming stored firing
// alerts).
func (s *Server) buildAlerting(ctx context.Context, rules []alerting.Rule, sender alerting.Sender) error {
	s.sender = sender
	s.outbox = alerting.NewOutbox(sender, s.log, outboxSize)

	var err error
	s.tracker, err = liveness.New(ctx, liveness.Options{
		StaleAfter: s.cfg.HostStaleAfter,
		DownAfter:  s.cfg.HostDownAfter,
		Store:      s.store,
		Sender:     s.outbox,
		Logger:     s.log,
	})
	if err != nil {
		return err
	}

	s.alerts, err = alerting.New(ctx, alerting.Options{
		Rules:    rules,
		Interval: s.cfg.AlertEvalEvery,
		Store:    s.store,
		Hosts:    s.tracker,
		Sender:   s.outbox,
		Logger:   s.log,
		Tracer:   s.tel.Tracer(),
		Metrics:  s.metrics,
	})
	if err != nil {
		return err
	}
	s.log.Info("alerting configured", "rules", len(rules), "notifier", sender != nil,
		"eval_interval", s.cfg.AlertEvalEvery.String())
	return nil
}

func migrateUp(cfg config.Config, log *slog.Logger) error {
	m, err := storage.NewMigrator(cfg.DatabaseURL, cfg.MigrationsPath, log)
	if err != nil {
		return err
	}
	defer m.Close()

	if err := m.Up(); err != nil {
		return err
	}
	v, _, _ := m.Version()
	log.Info("schema migrated", "version", v)
	return nil
}

// Store returns the server's storage.
func (s *Server) Store() *storage.Store { return s.store }

// Liveness returns the host liveness tracker, for parts that list hosts or
// skip retired ones (the dashboard, the Prometheus endpoint).
func (s *Server) Liveness() *liveness.Tracker { return s.tracker }

// Alerting returns the rule evaluator, for parts that list alerts.
func (s *Server) Alerting() *alerting.Evaluator { return s.alerts }

// Handler returns the server's root HTTP handler, for tests.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Serve accepts connections on l until ctx is cancelled, then shuts down
// within SHUTDOWN_TIMEOUT.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	jobCtx, stopJobs := context.WithCancel(ctx)
	defer stopJobs()
	s.startJobs(jobCtx)

	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCertFile != "" {
			errc <- s.http.ServeTLS(l, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
			return
		}
		errc <- s.http.Serve(l)
	}()
	s.log.Info("server listening", "addr", l.Addr().String(), "storage_mode", s.store.Mode(), "tls", s.cfg.TLSCertFile != "")

	select {
	case err := <-errc:
		s.store.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	s.log.Info("server stopping", "timeout", s.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(shutdownCtx)
	stopJobs()
	s.jobs.Wait()
	s.closeSender()
	s.store.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.Info("server stopped")
	return nil
}

// ListenAndServe listens on LISTEN_ADDR and serves until ctx is cancelled.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		s.store.Close()
		return fmt.Errorf("listen on LISTEN_ADDR %s: %w", s.cfg.ListenAddr, err)
	}
	return s.Serve(ctx, l)
}

// goJob runs fn as a tracked job; fn returns when ctx is done.
func (s *Server) goJob(ctx context.Context, fn func(context.Context)) {
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		fn(ctx)
	}()
}

// livenessPeriod is how often host liveness is checked: a quarter of
// HOST_STALE_AFTER, at most one second.
func livenessPeriod(staleAfter time.Duration) time.Duration {
	return min(staleAfter/4, time.Second)
}

// every runs fn each period until ctx is done, as a tracked job.
func (s *Server) every(ctx context.Context, period time.Duration, fn func(context.Context)) {
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
}

func retention(cfg config.Config) storage.Retention {
	return storage.Retention{Metrics: cfg.MetricsRetention, Logs: cfg.LogsRetention}
}

// rollupEvery is how often the hourly rollup is brought up to date.
const rollupEvery = 5 * time.Minute

func (s *Server) refreshRollup(ctx context.Context) {
	start := time.Now()
	if err := s.store.RefreshRollup(ctx, start); err != nil {
		s.log.Warn("refresh rollup failed", "err", err)
		return
	}
	s.log.Debug("rollup refreshed", "duration", time.Since(start).String())
}

func (s *Server) pruneExpired(ctx context.Context) {
	n, err := s.store.PruneExpired(ctx, time.Now(), retention(s.cfg))
	if err != nil {
		s.log.Warn("prune expired rows failed", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("expired rows pruned", "rows", n)
	}
}

func (s *Server) startJobs(ctx context.Context) {
	s.goJob(ctx, func(ctx context.Context) {
		s.refreshRollup(ctx)
		s.pruneExpired(ctx)
	})
	s.every(ctx, rollupEvery, s.refreshRollup)
	s.every(ctx, time.Hour, s.pruneExpired)
	s.goJob(ctx, s.outbox.Run)
	s.goJob(ctx, func(ctx context.Context) { s.tracker.Run(ctx, livenessPeriod(s.cfg.HostStaleAfter)) })
	if len(s.alerts.Rules()) > 0 {
		s.goJob(ctx, s.alerts.Run)
	}

	s.every(ctx, time.Hour, func(ctx context.Context) {
		n, err := s.store.PurgeBatchIDs(ctx)
		if err != nil {
			s.log.Warn("purge batch ids failed", "err", err)
			return
		}
		s.log.Debug("batch ids purged", "rows", n)
	})
}
