package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

// Limits on settings. The interval range keeps the server's liveness
// thresholds meaningful, and the minimum token length matches the server's.
const (
	MinCollectInterval = time.Second
	MaxCollectInterval = 300 * time.Second
	MinTokenLength     = 16
	maxShutdownTimeout = 10 * time.Minute
	maxRetryWaitMax    = time.Hour
	maxRetryMax        = 100
	maxQueueSize       = 100_000
)

// Config is the agent's complete configuration. Build it with Default or
// Load, and check it with Validate before use.
type Config struct {
	// ServerURL is the base URL of the MiniObserv server, such as
	// https://observ.example.com or http://127.0.0.1:8080/. The agent posts
	// to ServerURL/api/v1/metrics and ServerURL/api/v1/logs.
	ServerURL string
	// AgentToken is the HS256 secret the agent signs its JWTs with. It is
	// shared with the server and never logged.
	AgentToken Secret
	// AgentHost names this host in every batch. Default: the OS host name.
	AgentHost string
	// CollectInterval is the time between two metric collections, 1s to
	// 300s. Default: 10s.
	CollectInterval time.Duration
	// LogLevel is the minimum level of the agent's own log. Default: info.
	LogLevel slog.Level
	// LogFormat is the agent's own log format, "text" or "json". Default:
	// text.
	LogFormat string
	// LogPaths lists the files and glob patterns whose lines are shipped as
	// log entries. Default: none.
	LogPaths []string
	// LogStateFile is the file in which the log tailer keeps its read
	// offsets across restarts. Default: log-offsets.json in the agent's state directory.
	LogStateFile string
	// LogFromStart makes the tailer read files it has no offset for from
	// their beginning instead of their end. Default: false.
	LogFromStart bool
	// LogMaxAge is the oldest event time a log entry keeps. A line whose
	// own timestamp is older is stamped with the time it was read instead,
	// because the server rejects a whole batch that holds an entry older
	// than its LOGS_RETENTION. The line's text keeps the original time.
	LogMaxAge time.Duration
	// ShutdownTimeout bounds how long the agent spends flushing queued
	// batches after SIGTERM or SIGINT. Default: 5s.
	ShutdownTimeout time.Duration
	// CAFile is a PEM bundle of certificate authorities trusted in addition
	// to the system roots for the server's TLS certificate. Default: none.
	CAFile string
	// Collectors selects collectors by registry name. Default: every
	// registered collector.
	Collectors []string
	// DiskMounts lists the mount points to report. Default: every real
	// filesystem.
	DiskMounts []string
	// NetIfaces lists the network interfaces to report. Default: every
	// physical interface.
	NetIfaces []string
	// HostRoot is the path of the host's root filesystem inside the
	// agent: "/" on a bare host, or the mount point of the host root in a
	// container. Default: /.
	HostRoot string
	// QueueSize is the capacity of the metric queue in batches. When it is
	// full, the newest batch is dropped. Default: 360, one hour of batches
	// at the default interval.
	QueueSize int
	// LogQueueSize is the capacity of the log queue in batches. Log
	// batches are larger than metric batches, so this queue is shorter.
	// Default: 64.
	LogQueueSize int
	// RetryWaitMax caps every wait between two attempts, including a wait
	// the server requests with Retry-After. Default: 30s.
	RetryWaitMax time.Duration
	// RetryMax is the number of retries in one delivery round. A batch that
	// still fails stays at the head of its queue, and the next round starts
	// after RetryWaitMax. Default: 4.
	RetryMax int
}

// Default returns the configuration with every default filled in. It has
// no server URL or token, so it does not pass Validate as it is.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		AgentHost:       host,
		CollectInterval: 10 * time.Second,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "text",
		LogStateFile:    defaultStateFile(),
		ShutdownTimeout: 5 * time.Second,
		LogMaxAge:       24 * time.Hour,
		HostRoot:        "/",
		QueueSize:       360,
		LogQueueSize:    64,
		RetryWaitMax:    30 * time.Second,
		RetryMax:        4,
	}
}

// defaultStateFile returns the conventional place for service state on each
// operating system.
func defaultStateFile() string {
	if runtime.GOOS == "windows" {
		dir := os.Getenv("ProgramData")
		if dir == "" {
			dir = `C:\ProgramData`
		}
		return filepath.Join(dir, "miniobserv-agent", "log-offsets.json")
	}
	return "/var/lib/miniobserv-agent/log-offsets.json"
}

// Error lists every problem found in a configuration. Its message is one
// line, so that a process that prints it and exits leaves one log line.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid configuration: " + strings.Join(e.Problems, "; ")
}

// Validate checks every setting and returns an *Error naming each invalid
// one, or nil. It reads CA_FILE and HOST_ROOT from disk, and checks
// COLLECTORS against the collector registry, so that a bad value stops the
// agent at start-up rather than at the first send or tick.
func (c *Config) Validate() error {
	var problems []string
	add := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}

	c.validateServer(add)
	c.validateTiming(add)
	c.validateQueues(add)
	c.validateHost(add)
	c.validateLogs(add)

	if len(problems) == 0 {
		return nil
	}
	return &Error{Problems: problems}
}

type addFunc func(name, format string, args ...any)

func (c *Config) validateServer(add addFunc) {
	if err := checkServerURL(c.ServerURL); err != nil {
		add("SERVER_URL", "%v", err)
	}

	switch n := utf8.RuneCountInString(string(c.AgentToken)); {
	case n == 0:
		add("AGENT_TOKEN", "missing: set the HS256 secret the server also uses")
	case n < MinTokenLength:
		add("AGENT_TOKEN", "too short (%d characters, minimum %d): use the server's secret", n, MinTokenLength)
	}

	if c.CAFile != "" {
		if _, err := c.RootCAs(); err != nil {
			add("CA_FILE", "%v", err)
		}
	}
}

func checkServerURL(raw string) error {
	if raw == "" {
		return errors.New("missing: set the server's base URL, such as https://observ.example.com")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme of %q is not http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return errors.New("contains credentials: remove them, the agent authenticates with AGENT_TOKEN")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q has a query or fragment: give the base URL only", raw)
	}
	return nil
}

func (c *Config) validateTiming(add addFunc) {
	if c.CollectInterval < MinCollectInterval || c.CollectInterval > MaxCollectInterval {
		add("COLLECT_INTERVAL", "%s is outside %s to %s", c.CollectInterval, MinCollectInterval, MaxCollectInterval)
	}
	if c.LogMaxAge < time.Minute {
		add("LOG_MAX_AGE", "%s is shorter than 1m: keep it below the server's LOGS_RETENTION, such as 24h", c.LogMaxAge)
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > maxShutdownTimeout {
		add("SHUTDOWN_TIMEOUT", "%s is not positive or longer than %s", c.ShutdownTimeout, maxShutdownTimeout)
	}
	if c.RetryWaitMax <= 0 || c.RetryWaitMax > maxRetryWaitMax {
		add("RETRY_WAIT_MAX", "%s is not positive or longer than %s", c.RetryWaitMax, maxRetryWaitMax)
	}
	if c.RetryMax < 0 || c.RetryMax > maxRetryMax {
		add("RETRY_MAX", "%d is outside 0 to %d", c.RetryMax, maxRetryMax)
	}
}

func (c *Config) validateQueues(add addFunc) {
	if c.QueueSize < 1 || c.QueueSize > maxQueueSize {
		add("QUEUE_SIZE", "%d batches is outside 1 to %d", c.QueueSize, maxQueueSize)
	}
	if c.LogQueueSize < 1 || c.LogQueueSize > maxQueueSize {
		add("LOG_QUEUE_SIZE", "%d batches is outside 1 to %d", c.LogQueueSize, maxQueueSize)
	}
}

func (c *Config) validateHost(add addFunc) {
	switch {
	case strings.TrimSpace(c.AgentHost) == "":
		add("AGENT_HOST", "empty and the OS host name is unavailable: set AGENT_HOST")
	case len(c.AgentHost) > model.MaxHostLen:
		add("AGENT_HOST", "longer than %d characters", model.MaxHostLen)
	case !utf8.ValidString(c.AgentHost) || strings.ContainsFunc(c.AgentHost, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		add("AGENT_HOST", "contains invalid UTF-8 or control characters")
	}

	if info, err := os.Stat(c.HostRoot); err != nil {
		add("HOST_ROOT", "%v", err)
	} else if !info.IsDir() {
		add("HOST_ROOT", "%s is not a directory", c.HostRoot)
	}

	if unknown := unknownCollectors(c.Collectors); len(unknown) > 0 {
		registered := strings.Join(collectors.Names(), ", ")
		if registered == "" {
			registered = "none"
		}
		add("COLLECTORS", "unknown collector %s: registered collectors are %s", strings.Join(unknown, ", "), registered)
	}
}

func unknownCollectors(names []string) []string {
	var unknown []string
	for _, name := range names {
		if _, ok := collectors.Lookup(name); !ok {
			unknown = append(unknown, fmt.Sprintf("%q", name))
		}
	}
	return unknown
}

func (c *Config) validateLogs(add addFunc) {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("LOG_FORMAT", "%q is not text or json", c.LogFormat)
	}
	if len(c.LogPaths) == 0 {
		return
	}
	if c.LogStateFile == "" {
		add("LOG_STATE_FILE", "empty while LOG_PATHS is set: give a file path for the read offsets")
	} else if info, err := os.Stat(c.LogStateFile); err == nil && info.IsDir() {
		add("LOG_STATE_FILE", "%s is a directory: give a file path", c.LogStateFile)
	}
	for _, p := range c.LogPaths {
		if _, err := filepath.Match(p, ""); err != nil {
			add("LOG_PATHS", "invalid glob %q: %v", p, err)
		}
	}
}

// RootCAs returns the system certificate pool with the certificates of
// CAFile added, or nil when CAFile is empty so that the TLS stack uses the
// system roots as they are.
func (c *Config) RootCAs() (*x509.CertPool, error) {
	if c.CAFile == "" {
		return nil, nil
	}

	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}

	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s contains no PEM certificate: give a PEM bundle of CA certificates", c.CAFile)
	}
	return pool, nil
}
