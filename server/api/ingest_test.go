package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/servertest"
)

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func do(t *testing.T, method, url, token string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func validBatch(host string, n int) model.MetricBatch {
	now := time.Now().UTC().Truncate(time.Second)
	b := model.MetricBatch{Host: host, Metrics: make([]model.Metric, n)}
	for i := range b.Metrics {
		b.Metrics[i] = model.Metric{Time: now.Add(-time.Duration(i) * time.Second), Name: model.MemUsedPct, Value: float64(i % 100)}
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func countRows(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*)::int FROM metrics").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIngestStoresBatch(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)

	b := validBatch("web-1", 7)
	b.BatchID = "batch-1"
	r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, b))
	if r.status != http.StatusAccepted || r.body["ingested"] != float64(7) {
		t.Fatalf("ingest = %d %s, want 202 ingested 7", r.status, r.raw)
	}

	again := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, b))
	if again.status != http.StatusAccepted || again.body["ingested"] != float64(0) || again.body["duplicate"] != true {
		t.Fatalf("retried batch = %d %s, want 202 ingested 0 duplicate true", again.status, again.raw)
	}
	if n := countRows(t, srv.DatabaseURL); n != 7 {
		t.Fatalf("rows = %d, want 7", n)
	}
}

// TestIngestRejectsBadInput covers every rejection rule of the ingest
// contract. Each case names the field path the error must contain, and no
// rejected batch may store anything.
func TestIngestRejectsBadInput(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	now := time.Now().UTC()

	point := func(edit func(m map[string]any)) string {
		m := map[string]any{"time": now.Format(time.RFC3339), "name": "mem.used_pct", "value": 50.0}
		edit(m)
		good := map[string]any{"time": now.Format(time.RFC3339), "name": "mem.used_pct", "value": 1.0}
		return string(mustJSON(t, map[string]any{"host": "h", "metrics": []any{good, good, good, m}}))
	}

	cases := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"malformed json", `{"host": "h", "metrics": [`, 400, "body"},
		{"wrong type", `{"host": "h", "metrics": [{"time": "` + now.Format(time.RFC3339) + `", "name": "mem.used_pct", "value": "high"}]}`, 400, "metrics.value"},
		{"empty host", `{"host": "", "metrics": [{"time": "` + now.Format(time.RFC3339) + `", "name": "mem.used_pct", "value": 1}]}`, 400, "host"},
		{"no metrics", `{"host": "h", "metrics": []}`, 400, "metrics"},
		{"unknown name", point(func(m map[string]any) { m["name"] = "cpu.temperature" }), 400, "metrics[3].name"},
		{"percent above 100", point(func(m map[string]any) { m["value"] = 100.5 }), 400, "metrics[3].value"},
		{"negative percent", point(func(m map[string]any) { m["value"] = -1 }), 400, "metrics[3].value"},
		{"negative bytes", point(func(m map[string]any) { m["name"] = "net.bytes_in"; m["value"] = -4096 }), 400, "metrics[3].value"},
		{"wrapped counter", point(func(m map[string]any) { m["name"] = "net.bytes_in"; m["value"] = 18446744069414585816.0 }), 400, "metrics[3].value"},
		{"future time", point(func(m map[string]any) { m["time"] = now.Add(11 * time.Minute).Format(time.RFC3339) }), 400, "metrics[3].time"},
		{"older than retention", point(func(m map[string]any) { m["time"] = now.Add(-31 * 24 * time.Hour).Format(time.RFC3339) }), 400, "metrics[3].time"},
		{"missing time", point(func(m map[string]any) { delete(m, "time") }), 400, "metrics[3].time"},
		{"point host differs", point(func(m map[string]any) { m["host"] = "other" }), 400, "metrics[3].host"},
		{"empty label key", point(func(m map[string]any) { m["labels"] = map[string]string{"": "x"} }), 400, "metrics[3].labels"},
		{"empty label value", point(func(m map[string]any) { m["labels"] = map[string]string{"core": ""} }), 400, "metrics[3].labels.core"},
		{"long label value", point(func(m map[string]any) { m["labels"] = map[string]string{"mount": strings.Repeat("x", 300)} }), 400, "metrics[3].labels.mount"},
		{"long label key", point(func(m map[string]any) { m["labels"] = map[string]string{strings.Repeat("k", 65): "x"} }), 400, "metrics[3].labels"},
		{"too many labels", point(func(m map[string]any) {
			l := map[string]string{}
			for i := range 17 {
				l[fmt.Sprintf("k%d", i)] = "v"
			}
			m["labels"] = l
		}), 400, "metrics[3].labels"},
		{"long batch id", `{"host": "h", "batch_id": "` + strings.Repeat("b", 65) + `", "metrics": [{"time": "` + now.Format(time.RFC3339) + `", "name": "mem.used_pct", "value": 1}]}`, 400, "batch_id"},
		{"over 1000 points", string(mustJSON(t, validBatch("h", 1001))), 413, "metrics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, []byte(tc.body))
			if r.status != tc.status {
				t.Fatalf("status = %d (%s), want %d", r.status, r.raw, tc.status)
			}
			msg, _ := r.body["error"].(string)
			if !strings.HasPrefix(msg, tc.field) {
				t.Fatalf("error %q does not start with the field %q", msg, tc.field)
			}
		})
	}
	if n := countRows(t, srv.DatabaseURL); n != 0 {
		t.Fatalf("rejected batches stored %d rows", n)
	}
}

func TestIngestBodyOverLimit(t *testing.T) {
	srv := servertest.Start(t, nil)
	body := `{"host": "h", "metrics": [], "pad": "` + strings.Repeat("x", int(srv.Config.MaxBodyBytes)) + `"}`
	r := do(t, "POST", srv.URL+"/api/v1/metrics", servertest.AgentToken(t), []byte(body))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d (%s), want 413", r.status, r.raw)
	}
}
