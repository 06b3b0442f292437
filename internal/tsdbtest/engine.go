package tsdbtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// startTimeout bounds the wait for the engine's LISTENING line. Cold starts
// took 2 to 4 s on an idle 2-core machine and 12 s on a loaded one, so the
// margin is wide.
const startTimeout = 2 * time.Minute

// engine is one running server.mjs process.
type engine struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	addr    string
	stderr  *tailBuffer
	exited  chan struct{}
	waitErr error
}

// startEngine runs server.mjs from dir on a free loopback port and waits
// until it prints its address. The engine's stdin is a pipe that only this
// process holds: when the test binary exits, for any reason, the pipe closes
// and the engine stops itself (--stdin-watchdog).
func startEngine(node, dir string) (*engine, error) {
	cmd := exec.Command(node, "server.mjs", "--port", "0", "--stdin-watchdog")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("engine stdin pipe: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("engine stdout pipe: %w", err)
	}
	e := &engine{cmd: cmd, stdin: stdin, stderr: &tailBuffer{max: 8 << 10}, exited: make(chan struct{})}
	cmd.Stderr = e.stderr

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start engine %s/server.mjs: %w", dir, err)
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()

	addr, err := readListening(stdout, e.exited)
	if err != nil {
		e.stop()
		return nil, fmt.Errorf("start engine: %w (%v); engine stderr:\n%s", err, e.waitErr, e.stderr.String())
	}
	e.addr = addr
	return e, nil
}

// readListening waits for the "LISTENING host:port" line, failing when the
// engine exits first or startTimeout passes.
func readListening(stdout io.Reader, exited <-chan struct{}) (string, error) {
	lines := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if addr, ok := strings.CutPrefix(scanner.Text(), "LISTENING "); ok {
				lines <- addr
				break
			}
		}
		// Keep draining so the engine never blocks on a full stdout pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}()

	select {
	case addr := <-lines:
		return addr, nil
	case <-exited:
		return "", errors.New("engine exited before it listened")
	case <-time.After(startTimeout):
		return "", fmt.Errorf("engine did not listen within %s", startTimeout)
	}
}

// stop closes the engine's stdin, which makes it shut down cleanly, and
// kills it if it is still running after a grace period.
func (e *engine) stop() {
	_ = e.stdin.Close()
	select {
	case <-e.exited:
		return
	case <-time.After(10 * time.Second):
	}
	_ = e.cmd.Process.Kill()
	<-e.exited
}

// alive reports whether the engine process is still running.
func (e *engine) alive() bool {
	select {
	case <-e.exited:
		return false
	default:
		return true
	}
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
