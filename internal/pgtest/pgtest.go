// Package pgtest starts a throwaway PostgreSQL cluster for integration tests
// and hands each test a fresh, empty database in it.
//
// When TEST_DATABASE_URL is set, tests use that server instead of starting
// one. Otherwise the first call runs initdb into a temporary directory and
// starts postgres on a free loopback port with the binaries found on PATH or
// under /usr/lib/postgresql. As root, both run as the postgres user, because
// PostgreSQL refuses to run as root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var (
	once     sync.Once
	baseURL  string
	startErr error
	dbSeq    atomic.Int64
)

// Server returns the URL of the shared test server's maintenance database,
// starting the server on first use. The test fails if none can be started.
func Server(tb testing.TB) string {
	tb.Helper()
	once.Do(func() {
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			baseURL = u
			return
		}
		baseURL, startErr = startCluster()
	})
	if startErr != nil {
		tb.Fatalf("start test PostgreSQL: %v", startErr)
	}
	return baseURL
}

// NewDatabase creates an empty database on the shared test server and
// returns its URL. The database is dropped when the test ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	base := Server(tb)
	name := fmt.Sprintf("mo_test_%d_%d", os.Getpid(), dbSeq.Add(1))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}

	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})

	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse test server URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// startCluster initialises and starts a cluster that lives until the test
// binary exits. The postgres process is tied to this process with a pipe:
// when the test binary ends, a watcher stops it.
func startCluster() (string, error) {
	bin, err := findBinDir()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "miniobserv-pgtest-")
	if err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}

	runAs, err := runUser()
	if err != nil {
		return "", err
	}
	if runAs != "" {
		if err := chownTree(dir, runAs); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")

	initdb := command(runAs, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}

	// pg_ctl -w waits until the server accepts connections.
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	start := command(runAs, filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	if out, err := start.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
	}
	stopOnExit(runAs, filepath.Join(bin, "pg_ctl"), data, dir)

	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

// stopOnExit starts a shell that waits for this process to exit and then
// stops the cluster and removes its directory, so no postgres outlives the
// test binary even when a test calls os.Exit or panics.
func stopOnExit(runAs, pgctl, data, dir string) {
	script := fmt.Sprintf(`while kill -0 %d 2>/dev/null; do sleep 0.5; done; %s; rm -rf %q`,
		os.Getpid(), shellCommand(runAs, pgctl+" -D "+data+" -m immediate stop"), dir)
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdout, cmd.Stderr = nil, nil
	_ = cmd.Start()
}

func shellCommand(runAs, cmd string) string {
	if runAs == "" {
		return cmd
	}
	return "runuser -u " + runAs + " -- " + cmd
}

func command(runAs, name string, args ...string) *exec.Cmd {
	if runAs == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", runAs, "--", name}, args...)...)
}

// runUser returns the user to run PostgreSQL as: "" when not root,
// "postgres" when root.
func runUser() (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return "", errors.New("running as root and no postgres user exists: install the postgresql package or set TEST_DATABASE_URL")
	}
	return "postgres", nil
}

func chownTree(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// findBinDir locates initdb: on PATH, else the newest version under
// /usr/lib/postgresql (Debian keeps server binaries off PATH).
func findBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// Resolve links so the other server binaries are found beside it.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	if len(dirs) > 0 {
		return filepath.Dir(dirs[0]), nil
	}
	return "", errors.New("initdb not found on PATH or under /usr/lib/postgresql: install PostgreSQL (apt-get install postgresql) or set TEST_DATABASE_URL")
}

func pgVersion(initdbPath string) int {
	parts := strings.Split(initdbPath, "/")
	v, _ := strconv.Atoi(parts[len(parts)-3])
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
