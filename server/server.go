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

	"github.com/kamerrezz/theminidog/server/api"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/promexport"
	"github.com/kamerrezz/theminidog/server/storage"
)

// Server is a configured, migrated server ready to serve.
type Server struct {
	cfg   config.Config
	log   *slog.Logger
	store *storage.Store
	guard *auth.Guard
	api   *api.API
	http  *http.Server

	jobs sync.WaitGroup
}

// New opens the database, applies pending migrations and builds the HTTP
// handlers. It fails on a dirty schema or an unreachable database.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	store, err := storage.Open(ctx, storage.Options{URL: cfg.DatabaseURL, Mode: storage.Mode(cfg.StorageMode), Logger: log})
	if err != nil {
		return nil, err
	}
	if err := migrateUp(cfg, log); err != nil {
		store.Close()
		return nil, err
	}

	s := &Server{cfg: cfg, log: log, store: store}
	s.guard = auth.NewGuard(cfg.AgentToken, cfg.PublicRead, cfg.TLSCertFile != "")
	s.api = api.New(api.Options{
		Store:            store,
		Guard:            s.guard,
		Logger:           log,
		MaxBodyBytes:     cfg.MaxBodyBytes,
		MetricsRetention: cfg.MetricsRetention,
		LogsRetention:    cfg.LogsRetention,
		RequireHostMatch: cfg.RequireHostMatch,
	})
	s.mountLogin()
	promexport.Mount(s.api, store, log)

	s.http = &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           http.TimeoutHandler(s.api, cfg.RequestTimeout, `{"error":"request timed out"}`),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
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

func (s *Server) startJobs(ctx context.Context) {
	s.every(ctx, time.Hour, func(ctx context.Context) {
		n, err := s.store.PurgeBatchIDs(ctx)
		if err != nil {
			s.log.Warn("purge batch ids failed", "err", err)
			return
		}
		s.log.Debug("batch ids purged", "rows", n)
	})
}
