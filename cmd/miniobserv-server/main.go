// Command miniobserv-server runs the MiniObserv server and its maintenance
// subcommands: serve (the default), migrate, token, hosts and version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kamerrezz/theminidog/internal/buildinfo"
	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/server"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/storage"
)

const usage = `Usage: miniobserv-server <command> [flags]

Commands:
  serve                   run the server (the default when no command is given)
  migrate up|down|version|force N
                          manage the database schema (needs DATABASE_URL)
  token [--scope S] [--ttl D] [--sub NAME]
                          mint a JWT signed with AGENT_TOKEN, for curl and scrapers
  hosts retire NAME       retire a host: it leaves the host list and raises no
                          alerts until it reports again (needs DATABASE_URL)
  version                 print the version

Run "miniobserv-server serve -h" to list every setting.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelpOrVersion(args[0])) {
		cmd, args = args[0], args[1:]
	}

	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "migrate":
		err = migrate(args, stdout)
	case "token":
		err = token(args, stdout)
	case "hosts":
		err = hosts(args, stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, buildinfo.String("miniobserv-server"))
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout)
		config.PrintUsage(stdout)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}

	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "miniobserv-server:", strings.ReplaceAll(err.Error(), "\n", "\nminiobserv-server: "))
		return 1
	}
	return 0
}

func isHelpOrVersion(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--version":
		return true
	}
	return false
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(args []string, stderr io.Writer) error {
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tel, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: "miniobserv-server", Version: buildinfo.Version, Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			log.Warn("telemetry shutdown failed", "err", err)
		}
	}()

	// Listen first, so a port in use is reported before any database work.
	l, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: listen on %s: %w", cfg.ListenAddr, err)
	}
	defer l.Close()

	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	srv, err := server.New(startCtx, cfg, log, server.WithTelemetry(tel))
	cancel()
	if err != nil {
		return err
	}
	return srv.Serve(ctx, l)
}

func migrate(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("migrate needs an action: up, down, version or force N")
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL: missing: set the PostgreSQL URL to migrate")
	}

	m, err := storage.NewMigrator(dbURL, os.Getenv("MIGRATIONS_PATH"), slog.Default())
	if err != nil {
		return err
	}
	defer m.Close()

	switch args[0] {
	case "up":
		err = m.Up()
	case "down":
		err = m.Down()
	case "force":
		if len(args) != 2 {
			return errors.New("migrate force needs a version number, e.g. migrate force 2")
		}
		v, convErr := strconv.Atoi(args[1])
		if convErr != nil || v < 0 {
			return fmt.Errorf("migrate force: %q is not a version number", args[1])
		}
		err = m.Force(v)
	case "version":
	default:
		return fmt.Errorf("unknown migrate action %q: use up, down, version or force N", args[0])
	}
	if err != nil {
		return err
	}

	v, dirty, err := m.Version()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "version %d, dirty %v\n", v, dirty)
	return nil
}

func token(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("miniobserv-server token", flag.ContinueOnError)
	scope := fs.String("scope", "", "token scope: ingest, read, or empty for both")
	ttl := fs.String("ttl", "24h", "token lifetime (duration; d for days, e.g. 365d)")
	sub := fs.String("sub", "", "subject: the host name for agent tokens checked with REQUIRE_HOST_MATCH")
	if err := fs.Parse(args); err != nil {
		return err
	}

	secret := os.Getenv("AGENT_TOKEN")
	if len(secret) < 16 {
		return errors.New("AGENT_TOKEN: set the server's secret (at least 16 characters) to sign the token")
	}
	switch *scope {
	case "", auth.ScopeIngest, auth.ScopeRead:
	default:
		return fmt.Errorf("--scope %q: use ingest, read or leave it empty", *scope)
	}
	d, err := config.ParseDuration(*ttl)
	if err != nil || d <= 0 {
		return fmt.Errorf("--ttl %q: use a positive duration such as 1h or 30d", *ttl)
	}

	tok, err := auth.Mint(secret, auth.MintOptions{Issuer: auth.IssuerCLI, Subject: *sub, Scope: *scope, TTL: d})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// hosts runs `hosts retire NAME`. It writes the retirement to the database;
// a running server reads it back within a minute.
func hosts(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "retire" {
		return errors.New("usage: miniobserv-server hosts retire NAME")
	}
	name := args[1]
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL: missing: set the PostgreSQL URL of the server's database")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Plain mode: retiring a host touches one ordinary table, so there is no
	// need to look for or create the timescaledb extension.
	store, err := storage.Open(ctx, storage.Options{URL: dbURL, Mode: storage.ModePostgres, Logger: slog.Default()})
	if err != nil {
		return err
	}
	defer store.Close()

	at, err := store.RetireHost(ctx, name)
	if errors.Is(err, storage.ErrHostNotFound) {
		return fmt.Errorf("host %q: not found or already retired: GET /api/v1/hosts lists the active hosts", name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "host %s retired at %s; a running server applies it within a minute\n", name, at.Format(time.RFC3339))
	return nil
}
