//go:build unix

package main

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSIGTERMExitsZero(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	cmd := agentCommand([]string{
		"SERVER_URL=" + srv.URL + "/",
		"AGENT_TOKEN=sigterm-test-secret-123",
		"AGENT_HOST=sigterm-host",
		"SHUTDOWN_TIMEOUT=2s",
	}, "-log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Wait for the start-up line, so that the signal handler is installed.
	lines := bufio.NewScanner(stderr)
	var started bool
	for lines.Scan() {
		if strings.Contains(lines.Text(), `"msg":"agent started"`) {
			started = true
			break
		}
	}
	if !started {
		_ = cmd.Process.Kill()
		t.Fatalf("agent did not log its start: %v", cmd.Wait())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// stderr reaches EOF when the process exits.
	var rest strings.Builder
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for lines.Scan() {
			rest.WriteString(lines.Text() + "\n")
		}
	}()
	select {
	case <-readDone:
	case <-time.After(2*time.Second + 5*time.Second):
		_ = cmd.Process.Kill()
		<-readDone
		t.Fatalf("agent still running well past its 2s shutdown budget:\n%s", rest.String())
	}

	if err := cmd.Wait(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v, want status 0\n%s", err, rest.String())
	}
	if !strings.Contains(rest.String(), `"msg":"agent stopped"`) {
		t.Errorf("no stop line after SIGTERM:\n%s", rest.String())
	}
}
