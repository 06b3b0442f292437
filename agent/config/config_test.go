package config_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/agent/config"
	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/model"
)

type nopCollector struct{}

func (nopCollector) Collect(context.Context) ([]model.Metric, error) { return nil, nil }

func init() {
	collectors.Register(collectors.Registration{
		Name:    "testmem",
		Metrics: []string{model.MemUsedPct},
		New:     func(collectors.Config) (collectors.Collector, error) { return nopCollector{}, nil },
	})
}

const validToken = "0123456789abcdef0123"

// env returns a lookup function over a fixed map, standing in for
// os.LookupEnv.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func validEnv() map[string]string {
	return map[string]string{
		"SERVER_URL":  "http://127.0.0.1:8080",
		"AGENT_TOKEN": validToken,
		"AGENT_HOST":  "web-1",
	}
}

func TestLoadValidEnvironment(t *testing.T) {
	vars := validEnv()
	vars["COLLECT_INTERVAL"] = "15s"
	vars["LOG_PATHS"] = " /var/log/*.log, /tmp/app.log ,"
	vars["COLLECTORS"] = "testmem"
	vars["LOG_LEVEL"] = "DEBUG"
	vars["LOG_FROM_START"] = "true"
	vars["RETRY_WAIT_MAX"] = "2s"

	cfg, err := config.Load(nil, env(vars), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if cfg.CollectInterval != 15*time.Second {
		t.Errorf("CollectInterval = %s, want 15s", cfg.CollectInterval)
	}
	if got := strings.Join(cfg.LogPaths, "|"); got != "/var/log/*.log|/tmp/app.log" {
		t.Errorf("LogPaths = %q", got)
	}
	if cfg.LogLevel != slog.LevelDebug {
		t.Errorf("LogLevel = %v, want debug", cfg.LogLevel)
	}
	if !cfg.LogFromStart {
		t.Errorf("LogFromStart = false, want true")
	}
	if cfg.RetryWaitMax != 2*time.Second {
		t.Errorf("RetryWaitMax = %s, want 2s", cfg.RetryWaitMax)
	}
	if string(cfg.AgentToken) != validToken {
		t.Errorf("AgentToken not loaded")
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := config.Load(nil, env(validEnv()), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if cfg.CollectInterval != 10*time.Second {
		t.Errorf("CollectInterval = %s, want 10s", cfg.CollectInterval)
	}
	if cfg.ShutdownTimeout != 5*time.Second {
		t.Errorf("ShutdownTimeout = %s, want 5s", cfg.ShutdownTimeout)
	}
	if cfg.RetryWaitMax != 30*time.Second {
		t.Errorf("RetryWaitMax = %s, want 30s", cfg.RetryWaitMax)
	}
	if cfg.HostRoot != "/" {
		t.Errorf("HostRoot = %q, want /", cfg.HostRoot)
	}
	if cfg.LogLevel != slog.LevelInfo {
		t.Errorf("LogLevel = %v, want info", cfg.LogLevel)
	}
	if len(cfg.Collectors) != 0 {
		t.Errorf("Collectors = %v, want empty (all registered)", cfg.Collectors)
	}
}

func TestDefaultHostIsOSHostName(t *testing.T) {
	want, err := os.Hostname()
	if err != nil {
		t.Skipf("no OS host name: %v", err)
	}
	if got := config.Default().AgentHost; got != want {
		t.Errorf("Default().AgentHost = %q, want %q", got, want)
	}
}

func TestFlagOverridesEnvironment(t *testing.T) {
	vars := validEnv()
	vars["COLLECT_INTERVAL"] = "20s"
	vars["AGENT_HOST"] = "from-env"

	args := []string{"-collect-interval", "30s", "-agent-host=from-flag", "-log-from-start"}
	cfg, err := config.Load(args, env(vars), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if cfg.CollectInterval != 30*time.Second {
		t.Errorf("CollectInterval = %s, want the flag's 30s", cfg.CollectInterval)
	}
	if cfg.AgentHost != "from-flag" {
		t.Errorf("AgentHost = %q, want from-flag", cfg.AgentHost)
	}
	if !cfg.LogFromStart {
		t.Errorf("bare -log-from-start did not set LogFromStart")
	}
}

func TestLoadRejectsInvalidValues(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	plainFile := filepath.Join(dir, "file")
	if err := os.WriteFile(plainFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, value string
		wantText    string
	}{
		{"SERVER_URL", "", "missing"},
		{"SERVER_URL", "ftp://127.0.0.1", "not http or https"},
		{"SERVER_URL", "127.0.0.1:8080", "invalid URL"},
		{"SERVER_URL", "localhost:8080", "not http or https"},
		{"SERVER_URL", "http://", "no host"},
		{"SERVER_URL", "http://user:pw@127.0.0.1", "credentials"},
		{"SERVER_URL", "http://127.0.0.1/?x=1", "query"},
		{"AGENT_TOKEN", "", "missing"},
		{"AGENT_TOKEN", "short", "minimum 16"},
		{"COLLECT_INTERVAL", "10", "invalid duration"},
		{"COLLECT_INTERVAL", "500ms", "outside"},
		{"COLLECT_INTERVAL", "301s", "outside"},
		{"LOG_LEVEL", "verbose", "invalid level"},
		{"LOG_FORMAT", "xml", "not text or json"},
		{"LOG_FROM_START", "maybe", "invalid boolean"},
		{"LOG_PATHS", "/var/log/[.log", "invalid glob"},
		{"SHUTDOWN_TIMEOUT", "0s", "not positive"},
		{"SHUTDOWN_TIMEOUT", "-1s", "not positive"},
		{"CA_FILE", filepath.Join(dir, "missing.pem"), "read CA bundle"},
		{"CA_FILE", notPEM, "no PEM certificate"},
		{"COLLECTORS", "testmem,gpu", `unknown collector "gpu": registered collectors are`},
		{"HOST_ROOT", filepath.Join(dir, "absent"), "no such file"},
		{"HOST_ROOT", plainFile, "not a directory"},
		{"QUEUE_SIZE", "0", "outside"},
		{"QUEUE_SIZE", "ten", "invalid integer"},
		{"LOG_QUEUE_SIZE", "-3", "outside"},
		{"RETRY_WAIT_MAX", "0s", "not positive"},
		{"RETRY_WAIT_MAX", "2h", "longer than"},
		{"RETRY_MAX", "-1", "outside"},
		{"RETRY_MAX", "1000", "outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			vars := validEnv()
			vars[tc.name] = tc.value
			if tc.value == "" {
				delete(vars, tc.name)
			}

			_, err := config.Load(nil, env(vars), &bytes.Buffer{})
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load error = %v, want *config.Error", err)
			}
			if len(cerr.Problems) != 1 {
				t.Errorf("problems = %q, want exactly one", cerr.Problems)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.name+":") {
				t.Errorf("message %q does not name %s", msg, tc.name)
			}
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q does not contain %q", msg, tc.wantText)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q spans several lines", msg)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	vars := map[string]string{
		"SERVER_URL":       "gopher://x",
		"COLLECT_INTERVAL": "1h",
		"QUEUE_SIZE":       "0",
	}

	_, err := config.Load([]string{"-retry-max=x"}, env(vars), &bytes.Buffer{})
	if err == nil {
		t.Fatal("Load accepted five bad settings")
	}

	for _, name := range []string{"SERVER_URL", "AGENT_TOKEN", "COLLECT_INTERVAL", "RETRY_MAX", "QUEUE_SIZE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("message %q does not name %s", err, name)
		}
	}
	if !strings.Contains(err.Error(), "flag -retry-max") {
		t.Errorf("message %q does not name the flag that set RETRY_MAX", err)
	}
}

func TestLoadNeverPrintsToken(t *testing.T) {
	vars := validEnv()
	vars["AGENT_TOKEN"] = "tooshort-secret"

	_, err := config.Load(nil, env(vars), &bytes.Buffer{})
	if err == nil {
		t.Fatal("Load accepted a 15-character token")
	}
	if strings.Contains(err.Error(), vars["AGENT_TOKEN"]) {
		t.Errorf("message %q contains the token", err)
	}

	cfg := config.Default()
	cfg.AgentToken = validToken
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "token", cfg.AgentToken)
	if text := logged.String() + fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(text, validToken) {
		t.Errorf("formatted config contains the token: %s", text)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	_, err := config.Load([]string{"-h"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(-h) error = %v, want flag.ErrHelp", err)
	}

	help := out.String()
	for _, name := range []string{
		"SERVER_URL", "AGENT_TOKEN", "AGENT_HOST", "COLLECT_INTERVAL", "LOG_LEVEL", "LOG_FORMAT",
		"LOG_PATHS", "LOG_STATE_FILE", "LOG_FROM_START", "SHUTDOWN_TIMEOUT", "CA_FILE", "COLLECTORS",
		"DISK_MOUNTS", "NET_IFACES", "HOST_ROOT", "QUEUE_SIZE", "LOG_QUEUE_SIZE", "RETRY_WAIT_MAX", "RETRY_MAX",
	} {
		flagName := "-" + strings.ReplaceAll(strings.ToLower(name), "_", "-")
		if !strings.Contains(help, "(env "+name+")") || !strings.Contains(help, flagName+" ") {
			t.Errorf("-h text lacks %s / %s", name, flagName)
		}
	}
	for _, want := range []string{"-collect-interval duration", "(default: 10s)", "(default: 5s)", "(default: 30s)"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h text lacks %q", want)
		}
	}
}

func TestLoadRejectsUnknownFlagAndArgument(t *testing.T) {
	if _, err := config.Load([]string{"-no-such-flag"}, env(validEnv()), &bytes.Buffer{}); err == nil {
		t.Error("Load accepted an unknown flag")
	}
	if _, err := config.Load([]string{"stray"}, env(validEnv()), &bytes.Buffer{}); err == nil {
		t.Error("Load accepted a positional argument")
	}
}

func TestRootCAsAddsBundle(t *testing.T) {
	cfg := config.Default()
	if pool, err := cfg.RootCAs(); pool != nil || err != nil {
		t.Errorf("RootCAs without CA_FILE = %v, %v; want nil, nil", pool, err)
	}

	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, testCAPEM(t), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CAFile = path
	pool, err := cfg.RootCAs()
	if err != nil || pool == nil {
		t.Fatalf("RootCAs = %v, %v", pool, err)
	}
}
