package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// agentBinary is the path of the agent built by TestMain with version
// information set through -ldflags, as a release build sets it.
var agentBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "miniobserv-agent-test")
	if err != nil {
		panic(err)
	}
	agentBinary = filepath.Join(dir, "miniobserv-agent")
	if runtime.GOOS == "windows" {
		agentBinary += ".exe"
	}
	build := exec.Command("go", "build", "-o", agentBinary,
		"-ldflags", "-X github.com/kamerrezz/theminidog/internal/buildinfo.Version=v9.9.9-test -X github.com/kamerrezz/theminidog/internal/buildinfo.Commit=abc1234", ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build agent: " + err.Error())
	}

	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// agentCommand runs the built agent with exactly the given environment,
// so that settings of the machine running the tests do not leak in.
func agentCommand(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(agentBinary, args...)
	cmd.Env = env
	return cmd
}

func TestVersionSubcommand(t *testing.T) {
	var stdout bytes.Buffer
	cmd := agentCommand(nil, "version")
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("version: %v", err)
	}

	out := stdout.String()
	for _, want := range []string{"miniobserv-agent v9.9.9-test", "commit abc1234", runtime.Version()} {
		if !strings.Contains(out, want) {
			t.Errorf("version output %q lacks %q", out, want)
		}
	}
}

func TestInvalidConfigExitsWithOneLine(t *testing.T) {
	var stderr bytes.Buffer
	cmd := agentCommand([]string{"AGENT_TOKEN=short", "COLLECT_INTERVAL=0s"})
	cmd.Stderr = &stderr
	err := cmd.Run()

	exitErr, ok := err.(*exec.ExitError)
	if !ok || exitErr.ExitCode() != 2 {
		t.Fatalf("exit = %v, want status 2", err)
	}
	msg := strings.TrimSuffix(stderr.String(), "\n")
	if strings.Contains(msg, "\n") {
		t.Errorf("stderr has several lines:\n%s", msg)
	}
	for _, name := range []string{"SERVER_URL", "AGENT_TOKEN", "COLLECT_INTERVAL"} {
		if !strings.Contains(msg, name) {
			t.Errorf("message %q does not name %s", msg, name)
		}
	}
	if strings.Contains(msg, "=short") || strings.Contains(msg, `"short"`) {
		t.Errorf("message %q shows the token", msg)
	}
}

func TestHelpListsSettings(t *testing.T) {
	var stdout bytes.Buffer
	cmd := agentCommand(nil, "-h")
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("-h: %v", err)
	}

	for _, want := range []string{"-server-url URL  (env SERVER_URL)", "-collect-interval duration", "(default: 10s)", "version"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-h output lacks %q", want)
		}
	}
}
