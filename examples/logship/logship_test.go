// Package logship_test checks the example agent configuration for log
// shipping.
package logship_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// agentSettings lists the agent's environment variables.
// NOTE: written by hand because the agent's command lives elsewhere; keep
// it in step with the output of miniobserv-agent -h.
var agentSettings = []string{
	"SERVER_URL", "AGENT_TOKEN", "AGENT_HOST", "COLLECT_INTERVAL", "LOG_LEVEL",
	"LOG_PATHS", "LOG_STATE_FILE", "COLLECTORS", "DISK_MOUNTS", "NET_IFACES",
	"HOST_ROOT", "CA_FILE", "SHUTDOWN_TIMEOUT",
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s:%d: %q is not VARIABLE=value", path, n, line)
			continue
		}
		if _, dup := env[key]; dup {
			t.Errorf("%s:%d: %s set twice", path, n, key)
		}
		env[key] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return env
}

func TestEnvFileKeysKnown(t *testing.T) {
	env := readEnvFile(t, "agent.env")

	for key := range env {
		if !slices.Contains(agentSettings, key) && !strings.HasPrefix(key, "OTEL_") {
			t.Errorf("agent.env sets %s, which is not an agent setting", key)
		}
	}
	for _, key := range []string{"SERVER_URL", "AGENT_TOKEN", "LOG_PATHS", "LOG_STATE_FILE"} {
		if env[key] == "" {
			t.Errorf("agent.env does not set %s", key)
		}
	}
}

func TestLogPathsAreAbsoluteGlobs(t *testing.T) {
	env := readEnvFile(t, "agent.env")

	for _, p := range strings.Split(env["LOG_PATHS"], ",") {
		if p != strings.TrimSpace(p) || p == "" {
			t.Errorf("LOG_PATHS entry %q is empty or has spaces around it", p)
		}
		if !filepath.IsAbs(p) {
			t.Errorf("LOG_PATHS entry %q is not absolute, so it depends on the agent's working directory", p)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			t.Errorf("LOG_PATHS entry %q is not a valid glob: %v", p, err)
		}
	}
}

func TestStateFileInStateDirectory(t *testing.T) {
	env := readEnvFile(t, "agent.env")

	if dir := filepath.Dir(env["LOG_STATE_FILE"]); dir != "/var/lib/miniobserv-agent" {
		t.Errorf("LOG_STATE_FILE is in %q, want /var/lib/miniobserv-agent, the systemd unit's StateDirectory", dir)
	}
}
