package tsdbtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// resetTimeout bounds a reset. A reset that takes longer means a client
// still holds the session, so the engine is replaced instead.
const resetTimeout = 30 * time.Second

// urlParams are the connection parameters every client of the engine needs:
// the engine speaks no TLS and hangs on pgx's default sslmode=prefer, and
// all connections share one backend session, so a pool gets one connection
// and statements are never prepared by name (a named statement would
// outlive its connection and collide with the next client's).
const urlParams = "sslmode=disable&pool_max_conns=1&default_query_exec_mode=cache_describe"

var (
	mu sync.Mutex
	// current is the engine shared by the tests of this binary, nil until
	// the first Start or after a failed reset.
	current *engine
	// holder is the name of the test that uses the engine, "" when free.
	holder string
	// setup caches the node path and engine directory after the first
	// successful preparation.
	setup struct {
		node, dir string
	}
	// startErr is the first failure to start an engine. Later tests fail
	// with it at once instead of waiting out the same failure again.
	startErr error
)

// Start returns a pgx URL for an engine with TimescaleDB loaded and no user
// objects: no tables, views, continuous aggregates, jobs, schemas besides
// public, or session state left by an earlier test. The test fails when no
// engine can be started.
//
// Start fails the test when another test still uses the engine, because the
// engine has one session: tests that call Start must not call t.Parallel.
func Start(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()

	if holder != "" {
		tb.Fatalf("tsdbtest: test %s still uses the TimescaleDB engine, which has one session: tests that call tsdbtest.Start must not call t.Parallel", holder)
	}
	e, err := acquire(tb)
	if err != nil {
		tb.Fatalf("tsdbtest: %v", err)
	}

	holder = tb.Name()
	tb.Cleanup(func() { release(tb) })
	return e.url()
}

// acquire resets the running engine, or starts one when none runs or the
// reset fails.
func acquire(tb testing.TB) (*engine, error) {
	if current != nil && current.alive() {
		err := resetEngine(current.url())
		if err == nil {
			return current, nil
		}
		tb.Logf("tsdbtest: reset failed, starting a new engine: %v\n%s", err, current.stderr.String())
	}
	if current != nil {
		current.stop()
		current = nil
	}
	if startErr != nil {
		return nil, startErr
	}

	if setup.dir == "" {
		node, dir, err := prepare()
		if err != nil {
			return nil, err
		}
		setup.node, setup.dir = node, dir
	}
	e, err := startEngine(setup.node, setup.dir)
	if err != nil {
		startErr = err
		return nil, err
	}
	current = e
	return e, nil
}

// release frees the engine after a test. A failed test may have left the
// session in a state the reset does not cover, so its engine is stopped and
// the next test gets a new one.
func release(tb testing.TB) {
	mu.Lock()
	defer mu.Unlock()

	holder = ""
	if tb.Failed() && current != nil {
		current.stop()
		current = nil
	}
}

func prepare() (node, dir string, err error) {
	if node, err = findNode(); err != nil {
		return "", "", err
	}
	if dir, err = findEngineDir(); err != nil {
		return "", "", err
	}
	if err = installDeps(dir); err != nil {
		return "", "", err
	}
	return node, dir, nil
}

// resetEngine drops what earlier tests created. DISCARD ALL releases
// advisory locks, temporary tables, prepared statements and LISTEN
// channels, but it also resets search_path to pg_catalog, the value PGlite
// starts its backend with, so the value PGlite sets on start-up is restored.
func resetEngine(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), resetTimeout)
	defer cancel()

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect for reset: %w", err)
	}
	defer conn.Close(context.Background())

	for _, statement := range []string{"DISCARD ALL", "SET search_path TO public", resetSQL} {
		if _, err := conn.Exec(ctx, statement); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	return nil
}

func (e *engine) url() string {
	return fmt.Sprintf("postgres://postgres:postgres@%s/postgres?%s", e.addr, urlParams)
}
