// Package servertest starts a real MiniObserv server on a fresh test
// database for integration tests of the API and its clients.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
)

// Secret is the AGENT_TOKEN of servers started here.
const Secret = "test-secret-0123456789"

// Instance is a running test server.
type Instance struct {
	URL         string
	DatabaseURL string
	Server      *server.Server
	Config      config.Config
}

// Start runs a server on a new database. edit, when not nil, adjusts the
// configuration first. The server stops when the test ends.
func Start(tb testing.TB, edit func(*config.Config)) *Instance {
	tb.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(tb)
	cfg.AgentToken = Secret
	cfg.ListenAddr = "127.0.0.1:0"
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("test server config: %v", err)
	}
	return StartConfig(tb, cfg)
}

// StartConfig runs a server with cfg as given.
func StartConfig(tb testing.TB, cfg config.Config, opts ...server.Option) *Instance {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("MINIOBSERV_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := server.New(ctx, cfg, log, opts...)
	if err != nil {
		tb.Fatalf("start server: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(runCtx, l) }()
	tb.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			tb.Errorf("server shutdown: %v", err)
		}
	})

	scheme := "http://"
	if cfg.TLSCertFile != "" {
		scheme = "https://"
	}
	return &Instance{URL: scheme + l.Addr().String(), DatabaseURL: cfg.DatabaseURL, Server: srv, Config: cfg}
}

// Token mints a token for the test secret.
func Token(tb testing.TB, issuer, scope string, ttl time.Duration) string {
	tb.Helper()
	tok, err := auth.Mint(Secret, auth.MintOptions{Issuer: issuer, Subject: "test", Scope: scope, TTL: ttl})
	if err != nil {
		tb.Fatalf("mint token: %v", err)
	}
	return tok
}

// AgentToken is a token as an agent sends it, allowing ingest and reads.
func AgentToken(tb testing.TB) string {
	return Token(tb, auth.IssuerAgent, "", time.Hour)
}
