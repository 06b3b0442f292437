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
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/kamerrezz/theminidog/agent"
	"github.com/kamerrezz/theminidog/agent/config"

	// Every built-in collector registers itself from this package.
	_ "github.com/kamerrezz/theminidog/collectors/all"
)

// Set at build time with
// -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse --short HEAD)".
var (
	version = "dev"
	commit  = ""
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

	opts := []agent.Option{agent.WithLogger(logger)}
	if src := newLogSource(cfg, logger); src != nil {
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

// newLogSource returns the source of log entries for LOG_PATHS, or nil
// when there is none.
//
// TODO: return the agent/tailer log source built from cfg.LogPaths,
// cfg.LogStateFile and cfg.LogFromStart once that package is merged.
func newLogSource(cfg config.Config, logger *slog.Logger) agent.LogSource {
	if len(cfg.LogPaths) > 0 {
		logger.Warn("LOG_PATHS is set, but this build has no log tailer: log files are not shipped", "log_paths", cfg.LogPaths)
	}
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func printVersion(w io.Writer) {
	rev := commit
	if rev == "" {
		rev = vcsRevision()
	}
	fmt.Fprintf(w, "%s %s (commit %s, %s, %s/%s)\n", config.ProgramName, version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// vcsRevision returns the commit that go build recorded, for binaries
// built without -ldflags.
func vcsRevision() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
