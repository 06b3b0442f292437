package api_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/servertest"
)

func TestDatabaseOutageAnswers503(t *testing.T) {
	db := pgtest.NewDatabase(t)
	proxy, viaProxy := pgtest.NewProxy(t, db)
	srv := servertest.Start(t, func(c *config.Config) { c.DatabaseURL = viaProxy })
	tok := servertest.AgentToken(t)

	proxy.Cut()
	r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, validBatch("h", 3)))
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("ingest during outage: %d Retry-After=%q %s, want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if r := do(t, "GET", srv.URL+"/readyz", "", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz during outage: %d, want 503", r.status)
	}
	if r := do(t, "GET", srv.URL+"/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz during outage: %d, want 200", r.status)
	}

	proxy.Restore()
	r = do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, validBatch("h", 3)))
	if r.status != http.StatusAccepted {
		t.Fatalf("ingest after outage: %d %s, want 202", r.status, r.raw)
	}
	if n := countRows(t, db); n != 3 {
		t.Fatalf("rows = %d, want 3 (only the batch sent after the outage)", n)
	}
}

// TestFailingRequestsDoNotExhaustPool sends batches that fail inside the
// database and a request whose client hangs up, on a pool of two
// connections. Later batches must still be stored and every connection
// returned. See https://github.com/jackc/pgx/issues/1656.
func TestFailingRequestsDoNotExhaustPool(t *testing.T) {
	db := pgtest.NewDatabase(t)
	srv := servertest.Start(t, func(c *config.Config) { c.DatabaseURL = db + "&pool_max_conns=2" })
	tok := servertest.AgentToken(t)
	execSQL(t, db, `CREATE FUNCTION fail_on_label() RETURNS trigger AS $$
BEGIN IF NEW.labels->>'test' = 'fail' THEN RAISE EXCEPTION 'test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER fail_on_label BEFORE INSERT ON metrics FOR EACH ROW EXECUTE FUNCTION fail_on_label();`)

	for range 3 {
		b := validBatch("h", 10)
		b.Metrics[6].Labels = map[string]string{"test": "fail"}
		if r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, b)); r.status < 500 {
			t.Fatalf("failing batch: %d %s, want 5xx", r.status, r.raw)
		}
	}
	hangUp(t, srv.URL, tok, mustJSON(t, validBatch("h", 10)))

	for i := range 20 {
		if r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, validBatch("h", 5))); r.status != 202 {
			t.Fatalf("valid batch %d: %d %s, want 202", i, r.status, r.raw)
		}
	}

	pool := srv.Server.Store().Pool()
	if n := pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("acquired connections = %d, want 0", n)
	}
}

// hangUp sends the headers and half the body of an ingest request, then
// closes the connection.
func hangUp(t *testing.T, base, tok string, body []byte) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	head := "POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok +
		"\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n"
	_, _ = c.Write([]byte(head))
	_, _ = c.Write(body[:len(body)/2])
	c.Close()
}

func itoa(n int) string {
	return strconv.Itoa(n)
}

func execSQL(t *testing.T, dbURL, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}
