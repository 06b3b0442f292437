// Command miniobserv-agent collects host metrics and log lines and sends
// them to a MiniObserv server.
//
// Usage:
//
//	miniobserv-agent [flags]    run the agent
//	miniobserv-agent version    print the version
//	miniobserv-agent -h         list every setting with its variable, unit and default
//
// Settings come from environment variables (SERVER_URL, AGENT_TOKEN, ...)
// and matching flags, which win. An invalid setting stops the agent with
// exit status 2 and a one-line message naming it. SIGTERM or SIGINT stops
// collecting and flushes queued batches within SHUTDOWN_TIMEOUT, then the
// agent exits with status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/kamerrezz/theminidog/agent"
	"github.com/kamerrezz/theminidog/agent/config"
	"github.com/kamerrezz/theminidog/agent/tailer"
	"github.com/kamerrezz/theminidog/internal/buildinfo"
	"github.com/kamerrezz/theminidog/internal/telemetry"

	// Every built-in collector registers itself from this package.
	_ "github.com/kamerrezz/theminidog/collectors/all"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// run is main without the process exit, returning the exit status.
func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) > 0 && args[0] == "version" {
		printVersion(stdout)
		return 0
	}

	cfg, err := config.Load(args, lookupEnv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", config.ProgramName, err)
		return 2
	}
	logger := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, restore the default handling, so that a
		// second one ends a shutdown that takes too long.
		<-ctx.Done()
		stop()
	}()

	tel, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: "miniobserv-agent", Version: buildinfo.Version, Host: cfg.AgentHost, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", config.ProgramName, err)
		return 2
	}
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			logger.Warn("telemetry shutdown failed", "error", err)
		}
	}()

	opts := []agent.Option{agent.WithLogger(logger), agent.WithTelemetry(tel)}
	src, err := newLogSource(cfg, logger)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", config.ProgramName, err)
		return 2
	}
	if src != nil {
		opts = append(opts, agent.WithLogSource(src))
	}
	a, err := agent.New(cfg, opts...)
	if err != nil {
		logger.Error("agent failed to start", "error", err)
		return 1
	}
	if err := a.Run(ctx); err != nil {
		logger.Error("agent failed", "error", err)
		return 1
	}
	return 0
}

// newLogSource returns the tailer of LOG_PATHS, or nil when no paths are
// set.
func newLogSource(cfg config.Config, logger *slog.Logger) (agent.LogSource, error) {
	if len(cfg.LogPaths) == 0 {
		return nil, nil
	}
	t, err := tailer.New(tailer.Config{
		Paths:     cfg.LogPaths,
		StatePath: cfg.LogStateFile,
		FromStart: cfg.LogFromStart,
		Host:      cfg.AgentHost,
		Logger:    logger.With("component", "tailer"),
	})
	if err != nil {
		return nil, fmt.Errorf("LOG_PATHS: %w", err)
	}
	return t, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func printVersion(w io.Writer) {
	fmt.Fprintln(w, buildinfo.String(config.ProgramName))
}
