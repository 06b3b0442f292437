// Package curl_test runs quickstart.sh against a real server.
package curl_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/server/servertest"
)

// buildServer compiles miniobserv-server into a temporary directory, which
// the script then finds on PATH.
func buildServer(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, "miniobserv-server"), "github.com/kamerrezz/theminidog/cmd/miniobserv-server")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build miniobserv-server: %v\n%s", err, out)
	}
	return dir
}

func TestQuickstartScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: the curl quick start needs it (Debian: apt-get install %s)", tool, tool)
		}
	}
	binDir := buildServer(t)
	srv := servertest.Start(t, nil)

	const value = 61.25
	cmd := exec.Command("bash", "quickstart.sh")
	cmd.Env = []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"SERVER_URL=" + srv.URL + "/",
		"AGENT_TOKEN=" + servertest.Secret,
		"AGENT_HOST=curl-test",
		"MEM_USED_PCT=61.25",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("quickstart.sh: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	out := stdout.String()
	for _, want := range []string{`{"ingested":2}`, `miniobserv_mem_used_pct{host="curl-test"} 61.25`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// Independent of the script's output: the server stored the value.
	req, err := http.NewRequest("GET", srv.URL+"/api/v1/metrics/query?host=curl-test&name=mem.used_pct", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+servertest.AgentToken(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Points []struct {
			Time  time.Time `json:"time"`
			Value float64   `json:"value"`
		} `json:"points"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Fatal(err)
	}
	if len(answer.Points) != 1 || answer.Points[0].Value != value {
		t.Fatalf("stored points = %+v, want one with value %v", answer.Points, value)
	}
}

func TestQuickstartNeedsSettings(t *testing.T) {
	cmd := exec.Command("bash", "quickstart.sh")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("quickstart.sh without SERVER_URL succeeded, want a failure")
	}
	if !strings.Contains(string(out), "SERVER_URL") {
		t.Errorf("message %q does not name SERVER_URL", out)
	}
}
