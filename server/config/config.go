// Package config loads the server settings from environment variables and
// matching command-line flags, and validates them all at once so that a
// bad deployment fails at start-up with every problem named.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the server configuration. Field comments give the environment
// variable; each also has a flag of the same name in lower case with dashes.
type Config struct {
	DatabaseURL      string        // DATABASE_URL, required
	AgentToken       string        // AGENT_TOKEN, required HS256 secret, at least 16 characters
	ListenAddr       string        // LISTEN_ADDR
	MigrationsPath   string        // MIGRATIONS_PATH, empty means the embedded copy
	LogLevel         string        // LOG_LEVEL: debug, info, warn or error
	RequestTimeout   time.Duration // REQUEST_TIMEOUT
	ShutdownTimeout  time.Duration // SHUTDOWN_TIMEOUT
	MetricsRetention time.Duration // METRICS_RETENTION
	LogsRetention    time.Duration // LOGS_RETENTION
	StorageMode      string        // STORAGE_MODE: auto, timescaledb or postgres
	PublicRead       []string      // PUBLIC_READ: read endpoints open without a token
	RequireHostMatch bool          // REQUIRE_HOST_MATCH
	AlertRules       string        // ALERT_RULES, JSON array
	AlertRulesFile   string        // ALERT_RULES_FILE, path to a JSON array
	AlertEvalEvery   time.Duration // ALERT_EVAL_INTERVAL
	Notifications    string        // ALERT_NOTIFICATIONS, JSON array
	DashboardEnabled bool          // DASHBOARD_ENABLED
	HostStaleAfter   time.Duration // HOST_STALE_AFTER
	HostDownAfter    time.Duration // HOST_DOWN_AFTER
	TLSCertFile      string        // TLS_CERT_FILE
	TLSKeyFile       string        // TLS_KEY_FILE
	MaxBodyBytes     int64         // MAX_BODY_BYTES
}

// PublicReadEndpoints are the values PUBLIC_READ accepts.
var PublicReadEndpoints = []string{
	"/api/v1/metrics/query", "/api/v1/series", "/api/v1/logs/query",
	"/api/v1/hosts", "/api/v1/alerts", "/metrics", "/",
}

// Default returns the configuration with every default applied.
func Default() Config {
	return Config{
		ListenAddr:       ":8080",
		LogLevel:         "info",
		RequestTimeout:   10 * time.Second,
		ShutdownTimeout:  5 * time.Second,
		MetricsRetention: 30 * 24 * time.Hour,
		LogsRetention:    14 * 24 * time.Hour,
		StorageMode:      "auto",
		AlertEvalEvery:   30 * time.Second,
		DashboardEnabled: true,
		HostStaleAfter:   20 * time.Second,
		HostDownAfter:    50 * time.Second,
		MaxBodyBytes:     4 << 20,
	}
}

// setting binds one environment variable and flag to a Config field.
type setting struct {
	env   string
	usage string
	bind  func(c *Config) flag.Value
}

func settings() []setting {
	return []setting{
		{"DATABASE_URL", "PostgreSQL URL, postgres:// or postgresql:// (required)", strVal(func(c *Config) *string { return &c.DatabaseURL })},
		{"AGENT_TOKEN", "HS256 secret shared with agents, at least 16 characters (required)", secretVal(func(c *Config) *string { return &c.AgentToken })},
		{"LISTEN_ADDR", "HTTP listen address, host:port", strVal(func(c *Config) *string { return &c.ListenAddr })},
		{"MIGRATIONS_PATH", "directory of SQL migrations; empty uses the copy built into the binary", strVal(func(c *Config) *string { return &c.MigrationsPath })},
		{"LOG_LEVEL", "log level: debug, info, warn or error", strVal(func(c *Config) *string { return &c.LogLevel })},
		{"REQUEST_TIMEOUT", "time limit for handling one request (duration, e.g. 10s)", durVal(func(c *Config) *time.Duration { return &c.RequestTimeout })},
		{"SHUTDOWN_TIMEOUT", "time allowed for a graceful shutdown (duration)", durVal(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"METRICS_RETENTION", "how long metrics are kept (duration; d for days, e.g. 30d)", durVal(func(c *Config) *time.Duration { return &c.MetricsRetention })},
		{"LOGS_RETENTION", "how long log entries are kept (duration; d for days, e.g. 14d)", durVal(func(c *Config) *time.Duration { return &c.LogsRetention })},
		{"STORAGE_MODE", "auto, timescaledb or postgres", strVal(func(c *Config) *string { return &c.StorageMode })},
		{"PUBLIC_READ", "comma-separated read endpoints open without a token: " + strings.Join(PublicReadEndpoints, ", "), listVal(func(c *Config) *[]string { return &c.PublicRead })},
		{"REQUIRE_HOST_MATCH", "reject ingest when the token's sub differs from the batch host (true/false)", boolVal(func(c *Config) *bool { return &c.RequireHostMatch })},
		{"ALERT_RULES", "alert rules as a JSON array", strVal(func(c *Config) *string { return &c.AlertRules })},
		{"ALERT_RULES_FILE", "file holding alert rules as a JSON array", strVal(func(c *Config) *string { return &c.AlertRulesFile })},
		{"ALERT_EVAL_INTERVAL", "how often alert rules are evaluated (duration)", durVal(func(c *Config) *time.Duration { return &c.AlertEvalEvery })},
		{"ALERT_NOTIFICATIONS", `notifiers as a JSON array of {"type": ..., ...}`, strVal(func(c *Config) *string { return &c.Notifications })},
		{"DASHBOARD_ENABLED", "serve the dashboard at / (true/false)", boolVal(func(c *Config) *bool { return &c.DashboardEnabled })},
		{"HOST_STALE_AFTER", "silence after which a host is stale (duration)", durVal(func(c *Config) *time.Duration { return &c.HostStaleAfter })},
		{"HOST_DOWN_AFTER", "silence after which a host is down (duration)", durVal(func(c *Config) *time.Duration { return &c.HostDownAfter })},
		{"TLS_CERT_FILE", "PEM certificate; with TLS_KEY_FILE the server speaks HTTPS", strVal(func(c *Config) *string { return &c.TLSCertFile })},
		{"TLS_KEY_FILE", "PEM private key for TLS_CERT_FILE", strVal(func(c *Config) *string { return &c.TLSKeyFile })},
		{"MAX_BODY_BYTES", "largest accepted request body in bytes; larger bodies get 413", int64Val(func(c *Config) *int64 { return &c.MaxBodyBytes })},
	}
}

// FlagName is the flag spelling of an environment variable name.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(env), "_", "-")
}

// Load reads the environment, then args as flags (a flag overrides its
// variable), then validates. getenv is os.Getenv outside tests.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("miniobserv-server serve", flag.ContinueOnError)
	fs.Usage = func() { PrintUsage(fs.Output()) }

	var errs []error
	for _, s := range settings() {
		v := s.bind(&c)
		if raw := getenv(s.env); raw != "" {
			if err := v.Set(raw); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
			}
		}
		fs.Var(v, FlagName(s.env), s.usage)
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, c.Validate()
}

// PrintUsage writes every setting with its flag, meaning and default.
func PrintUsage(w interface{ Write([]byte) (int, error) }) {
	def := Default()
	fmt.Fprintln(w, "Usage: miniobserv-server [serve] [flags]\n\nEach setting is read from the environment variable shown, or from its flag.")
	for _, s := range settings() {
		d := s.bind(&def).String()
		if s.env == "AGENT_TOKEN" {
			d = ""
		}
		fmt.Fprintf(w, "  -%s, %s\n      %s", FlagName(s.env), s.env, s.usage)
		if d != "" && d != "false" {
			fmt.Fprintf(w, " (default %s)", d)
		}
		fmt.Fprintln(w)
	}
}

// Validate checks every setting and returns all problems joined, each
// naming its variable.
func (c *Config) Validate() error {
	var errs []error
	add := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{env}, args...)...))
	}

	if err := validateDatabaseURL(c.DatabaseURL); err != nil {
		add("DATABASE_URL", "%v", err)
	}
	if len(c.AgentToken) < 16 {
		add("AGENT_TOKEN", "must be at least 16 characters, got %d: generate one with `openssl rand -hex 32`", len(c.AgentToken))
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		add("LISTEN_ADDR", "%q is not host:port: %v", c.ListenAddr, err)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if !slices.Contains([]string{"auto", "timescaledb", "postgres"}, c.StorageMode) {
		add("STORAGE_MODE", "%q is not auto, timescaledb or postgres", c.StorageMode)
	}
	for _, p := range c.PublicRead {
		if !slices.Contains(PublicReadEndpoints, p) {
			add("PUBLIC_READ", "%q is not a read endpoint: use %s", p, strings.Join(PublicReadEndpoints, ", "))
		}
	}
	positive := []struct {
		env string
		d   time.Duration
		min time.Duration
	}{
		{"REQUEST_TIMEOUT", c.RequestTimeout, time.Millisecond},
		{"SHUTDOWN_TIMEOUT", c.ShutdownTimeout, time.Millisecond},
		{"METRICS_RETENTION", c.MetricsRetention, time.Hour},
		{"LOGS_RETENTION", c.LogsRetention, time.Hour},
		{"ALERT_EVAL_INTERVAL", c.AlertEvalEvery, 100 * time.Millisecond},
		{"HOST_STALE_AFTER", c.HostStaleAfter, 100 * time.Millisecond},
		{"HOST_DOWN_AFTER", c.HostDownAfter, 100 * time.Millisecond},
	}
	for _, p := range positive {
		if p.d < p.min {
			add(p.env, "%s is below the minimum %s", p.d, p.min)
		}
	}
	if c.HostStaleAfter >= c.HostDownAfter {
		add("HOST_STALE_AFTER", "%s must be shorter than HOST_DOWN_AFTER (%s)", c.HostStaleAfter, c.HostDownAfter)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		add("TLS_CERT_FILE", "TLS_CERT_FILE and TLS_KEY_FILE must be set together")
	}
	for env, path := range map[string]string{"TLS_CERT_FILE": c.TLSCertFile, "TLS_KEY_FILE": c.TLSKeyFile, "ALERT_RULES_FILE": c.AlertRulesFile} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			add(env, "%v", err)
		}
	}
	if c.AlertRules != "" && c.AlertRulesFile != "" {
		add("ALERT_RULES", "set ALERT_RULES or ALERT_RULES_FILE, not both")
	}
	if c.MaxBodyBytes < 1024 {
		add("MAX_BODY_BYTES", "%d is below the minimum 1024", c.MaxBodyBytes)
	}
	return errors.Join(errs...)
}

func validateDatabaseURL(raw string) error {
	if raw == "" {
		return errors.New("missing: set a postgres:// URL, e.g. postgres://user:pass@127.0.0.1:5432/miniobserv")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", redact(err))
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q is not supported: use postgres:// or postgresql://", u.Scheme)
	}
	return nil
}

// redact drops the URL text from a parse error so a password in it is not
// printed.
func redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// ParseDuration accepts Go durations plus a "d" suffix for whole days.
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q: use a whole number of days like 30d, or a Go duration like 12h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a value like 10s, 5m, 12h or 30d", s)
	}
	return d, nil
}
