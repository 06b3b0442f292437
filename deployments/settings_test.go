package deployments_test

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	agentconfig "github.com/kamerrezz/theminidog/agent/config"
	"github.com/kamerrezz/theminidog/server/config"
)

// agentSettings returns the environment variables that miniobserv-agent -h
// documents.
func agentSettings(t *testing.T) []string {
	t.Helper()
	var usage bytes.Buffer
	agentconfig.PrintUsage(&usage)

	names := regexp.MustCompile(`\(env ([A-Z][A-Z0-9_]+)\)`).FindAllStringSubmatch(usage.String(), -1)
	if len(names) < 10 {
		t.Fatalf("found %d settings in the agent usage text, want at least 10:\n%s", len(names), usage.String())
	}
	out := make([]string, len(names))
	for i, m := range names {
		out[i] = m[1]
	}
	return out
}

// serverSettings returns the environment variables that miniobserv-server
// serve -h documents.
func serverSettings(t *testing.T) []string {
	t.Helper()
	var usage bytes.Buffer
	config.PrintUsage(&usage)

	names := regexp.MustCompile(`(?m)^\s+-[a-z0-9-]+, ([A-Z][A-Z0-9_]+)$`).FindAllStringSubmatch(usage.String(), -1)
	if len(names) < 10 {
		t.Fatalf("found %d settings in the server usage text, want at least 10:\n%s", len(names), usage.String())
	}
	out := make([]string, len(names))
	for i, m := range names {
		out[i] = m[1]
	}
	return out
}

// knownSetting reports whether name is one of settings or a standard
// OpenTelemetry variable, which both binaries read.
func knownSetting(name string, settings []string) bool {
	if strings.HasPrefix(name, "OTEL_") {
		return true
	}
	return slices.Contains(settings, name)
}

// envFileKeys returns the variable names of an environment file, including
// those on commented-out VARIABLE=value lines.
func envFileKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	assignment := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=`)
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := assignment.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			keys = append(keys, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestEnvExamplesUseKnownSettings(t *testing.T) {
	cases := []struct {
		file     string
		settings []string
		required []string
	}{
		{"systemd/server.env.example", serverSettings(t), []string{"DATABASE_URL", "AGENT_TOKEN"}},
		{"systemd/agent.env.example", agentSettings(t), []string{"SERVER_URL", "AGENT_TOKEN", "LOG_STATE_FILE"}},
	}
	for _, c := range cases {
		keys := envFileKeys(t, c.file)
		for _, k := range keys {
			if !knownSetting(k, c.settings) {
				t.Errorf("%s sets %s, which is not a known setting", c.file, k)
			}
		}
		for _, r := range c.required {
			if !slices.Contains(keys, r) {
				t.Errorf("%s does not set %s", c.file, r)
			}
		}
	}
}
