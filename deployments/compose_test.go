package deployments_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of `docker-compose config` output these tests
// read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		NetworkMode string            `yaml:"network_mode"`
		PID         string            `yaml:"pid"`
		Profiles    []string          `yaml:"profiles"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
	} `yaml:"services"`
}

// composeConfig runs docker-compose config on docker-compose.yml with only
// env set: no variables from the test's environment and no deployments/.env,
// so a developer's own secrets never leak into the result.
func composeConfig(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin, lookErr := exec.LookPath("docker-compose")
	if lookErr != nil {
		t.Fatal("docker-compose is missing: it validates deployments/docker-compose.yml. " +
			"Install it with scripts/test-deps.sh, or on Debian: apt-get install --no-install-recommends docker-compose")
	}

	emptyEnvFile := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(emptyEnvFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--env-file", emptyEnvFile, "-f", "docker-compose.yml"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

var composeSecrets = map[string]string{"AGENT_TOKEN": "compose-test-secret-0123", "POSTGRES_PASSWORD": "composetest"}

func TestComposeConfigValid(t *testing.T) {
	out, stderr, err := composeConfig(t, composeSecrets, "config")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, stderr)
	}
	var cf composeFile
	if err := yaml.Unmarshal([]byte(out), &cf); err != nil {
		t.Fatalf("parse docker-compose config output: %v", err)
	}

	for _, name := range []string{"db", "server", "agent", "jaeger", "grafana"} {
		if _, ok := cf.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	if img := cf.Services["db"].Image; !strings.HasPrefix(img, "timescale/timescaledb:") || !strings.HasSuffix(img, "pg17") {
		t.Errorf("db image = %q, want timescale/timescaledb with PostgreSQL 17", img)
	}
	if p := cf.Services["grafana"].Profiles; !slices.Equal(p, []string{"grafana"}) {
		t.Errorf("grafana profiles = %v, want [grafana]", p)
	}

	server := cf.Services["server"]
	if got := server.Environment["AGENT_TOKEN"]; got != composeSecrets["AGENT_TOKEN"] {
		t.Errorf("server AGENT_TOKEN = %q, want the value from the environment", got)
	}
	if !strings.Contains(server.Environment["DATABASE_URL"], "@db:5432/") {
		t.Errorf("server DATABASE_URL = %q, want the db service", server.Environment["DATABASE_URL"])
	}
}

func TestComposeAgentReportsHost(t *testing.T) {
	out, stderr, err := composeConfig(t, composeSecrets, "config")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, stderr)
	}
	var cf composeFile
	if err := yaml.Unmarshal([]byte(out), &cf); err != nil {
		t.Fatal(err)
	}

	agent := cf.Services["agent"]
	if agent.NetworkMode != "host" {
		t.Errorf("agent network_mode = %q, want host", agent.NetworkMode)
	}
	if agent.PID != "host" {
		t.Errorf("agent pid = %q, want host", agent.PID)
	}
	if agent.Environment["HOST_ROOT"] != "/host" {
		t.Errorf("agent HOST_ROOT = %q, want /host", agent.Environment["HOST_ROOT"])
	}
	for _, want := range []string{"/:/host:ro,rslave", "/proc:/host/proc:ro", "/sys:/host/sys:ro"} {
		if !slices.Contains(agent.Volumes, want) {
			t.Errorf("agent volumes %v lack %s", agent.Volumes, want)
		}
	}
}

func TestComposeSettingsKnown(t *testing.T) {
	out, stderr, err := composeConfig(t, composeSecrets, "config")
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, stderr)
	}
	var cf composeFile
	if err := yaml.Unmarshal([]byte(out), &cf); err != nil {
		t.Fatal(err)
	}

	known := map[string][]string{"server": serverSettings(t), "agent": agentSettings(t)}
	for service, settings := range known {
		env := cf.Services[service].Environment
		for k := range env {
			if !knownSetting(k, settings) {
				t.Errorf("%s sets %s, which is not a known setting", service, k)
			}
		}
		// Jaeger takes traces only; an OTLP metrics exporter pointed at it
		// would fail on every export.
		if env["OTEL_METRICS_EXPORTER"] != "none" {
			t.Errorf("%s OTEL_METRICS_EXPORTER = %q, want none", service, env["OTEL_METRICS_EXPORTER"])
		}
		if env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "" {
			t.Errorf("%s has no OTEL_EXPORTER_OTLP_ENDPOINT", service)
		}
	}
}

func TestComposeRequiresSecrets(t *testing.T) {
	for missing := range composeSecrets {
		env := map[string]string{}
		for k, v := range composeSecrets {
			if k != missing {
				env[k] = v
			}
		}
		_, stderr, err := composeConfig(t, env, "config", "-q")
		if err == nil {
			t.Errorf("without %s: docker-compose config succeeded, want an error", missing)
			continue
		}
		if !strings.Contains(stderr, "set "+missing) {
			t.Errorf("without %s: error %q does not say to set it", missing, stderr)
		}
	}
}
