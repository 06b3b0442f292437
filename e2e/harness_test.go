package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/server/auth"
)

const secret = "e2e-secret-0123456789abcdef"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds miniobserv-server and miniobserv-agent once per test run.
func binaries(t testing.TB) (server, agent string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "miniobserv-e2e-bin-")
		if buildErr != nil {
			return
		}
		for _, name := range []string{"miniobserv-server", "miniobserv-agent"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "../cmd/"+name).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("build %s: %v\n%s", name, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "miniobserv-server"), filepath.Join(binDir, "miniobserv-agent")
}

// process is a started binary whose output is kept for failure messages.
type process struct {
	cmd    *exec.Cmd
	output *bytes.Buffer
	done   chan error
}

// start runs bin with env and stops it with SIGTERM when the test ends.
func start(t testing.TB, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), output: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	p.cmd.Stdout = &lockedWriter{w: p.output}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { p.done <- p.cmd.Wait() }()

	t.Cleanup(func() {
		p.stop(t, 10*time.Second)
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(bin), p.output.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits up to timeout, then kills the process.
func (p *process) stop(t testing.TB, timeout time.Duration) error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s did not stop within %s of SIGTERM", p.cmd.Path, timeout)
		return <-p.done
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady polls /readyz until the server responds with 200.
func waitReady(t *testing.T, base string, p *process) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("server exited during start-up: %v\n%s", err, p.output.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server at %s not ready after 60s\n%s", base, p.output.String())
}

func readToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.Mint(secret, auth.MintOptions{Issuer: auth.IssuerCLI, Scope: auth.ScopeRead, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// getJSON fetches base+path with a read token into v and returns the status.
func getJSON(t *testing.T, base, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+readToken(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

// waitFor calls check until it returns true or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if check() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}
