package promexport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/promexport"
	"github.com/kamerrezz/theminidog/server/servertest"
)

// scrape fetches /metrics with token (none when empty) and returns the
// status, the Content-Type and the body.
func scrape(t *testing.T, base, token string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /metrics body: %v", err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func parse(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(pmodel.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, body)
	}
	return families
}

func ingest(t *testing.T, base, token string, b model.MetricBatch) {
	t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+"/api/v1/metrics", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /api/v1/metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("ingest for %s: %d %s, want 202", b.Host, resp.StatusCode, msg)
	}
}

func execSQL(t *testing.T, dbURL, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// seriesKey identifies an exported series: family name plus sorted labels.
func seriesKey(family string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(family)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, labels[k])
	}
	return b.String()
}

func readToken(t *testing.T) string {
	return servertest.Token(t, auth.IssuerCLI, auth.ScopeRead, 365*24*time.Hour)
}

// testData returns the batches TestMetricsExposesNewestValues ingests.
// Host web-1 reports six collections 10 s apart in two batches, sent
// newest first. One of its mounts is missing from the two newest
// collections, another was written only 20 minutes before the rest, and
// one stored label key clashes with the host label. Host db-1 stopped
// reporting two hours earlier, and host old-1 gets retired.
func testData(base time.Time) []model.MetricBatch {
	tick := func(i int) []model.Metric {
		at := base.Add(time.Duration(i) * 10 * time.Second)
		f := float64(i)
		points := []model.Metric{
			{Time: at, Name: model.CPUUsagePct, Value: 10 + f, Labels: map[string]string{"core": "total"}},
			{Time: at, Name: model.CPUUsagePct, Value: 20 + f, Labels: map[string]string{"core": "0"}},
			{Time: at, Name: model.MemUsedBytes, Value: 1e9 + f*1e6},
			{Time: at, Name: model.MemTotalBytes, Value: 8e9},
			{Time: at, Name: model.MemUsedPct, Value: 30 + f, Labels: map[string]string{"host": "container-7"}},
			{Time: at, Name: model.DiskUsedPct, Value: 40 + f, Labels: map[string]string{"mount": "/"}},
			{Time: at, Name: model.NetBytesIn, Value: 1000 * f, Labels: map[string]string{"iface": "eth0"}},
		}
		if i <= 3 {
			// The /data mount is missing from the two newest collections.
			points = append(points, model.Metric{Time: at, Name: model.DiskUsedPct, Value: 60 + f, Labels: map[string]string{"mount": "/data"}})
		}
		return points
	}
	var newer, older []model.Metric
	for i := 3; i < 6; i++ {
		newer = append(newer, tick(i)...)
	}
	for i := range 3 {
		older = append(older, tick(i)...)
	}
	older = append(older, model.Metric{Time: base.Add(-20 * time.Minute), Name: model.DiskUsedPct, Value: 99, Labels: map[string]string{"mount": "/old"}})

	down := base.Add(-2 * time.Hour)
	return []model.MetricBatch{
		{Host: "web-1", Metrics: newer},
		{Host: "web-1", Metrics: older},
		{Host: "db-1", Metrics: []model.Metric{
			{Time: down, Name: model.MemUsedPct, Value: 55},
			{Time: down, Name: model.NetBytesOut, Value: 777, Labels: map[string]string{"iface": "eth1"}},
		}},
		{Host: "old-1", Metrics: []model.Metric{{Time: base, Name: model.MemUsedPct, Value: 12}}},
	}
}

// expectedSeries computes the exported series from the ingested batches:
// per host, metric and label set the value with the newest time, keeping
// label sets written within the look-back of their metric's newest point,
// plus each host's newest time. The look-back is three times the gap
// between the metric's two newest timestamps, at least one minute and at
// most the series window. Hosts in retired are left out.
func expectedSeries(batches []model.MetricBatch, retired map[string]bool) map[string]float64 {
	type point struct {
		at     time.Time
		value  float64
		metric string // host/name
		host   string
	}
	newest := map[string]point{}             // series key -> newest point
	times := map[string]map[time.Time]bool{} // host/name -> distinct times
	for _, b := range batches {
		if retired[b.Host] {
			continue
		}
		for _, m := range b.Metrics {
			labels := map[string]string{"host": b.Host}
			for k, v := range m.Labels {
				labels[promexport.LabelName(k)] = v
			}
			key := seriesKey(promexport.MetricName(m.Name), labels)
			metric := b.Host + "/" + m.Name
			if p, ok := newest[key]; !ok || m.Time.After(p.at) {
				newest[key] = point{at: m.Time, value: m.Value, metric: metric, host: b.Host}
			}
			if times[metric] == nil {
				times[metric] = map[time.Time]bool{}
			}
			times[metric][m.Time] = true
		}
	}

	cutoff := map[string]time.Time{}
	for metric, set := range times {
		sorted := make([]time.Time, 0, len(set))
		for at := range set {
			sorted = append(sorted, at)
		}
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].After(sorted[j]) })
		lookBack := time.Minute
		if len(sorted) > 1 {
			lookBack = max(lookBack, 3*sorted[0].Sub(sorted[1]))
		}
		cutoff[metric] = sorted[0].Add(-min(lookBack, promexport.SeriesWindow))
	}

	want := map[string]float64{}
	lastSample := map[string]time.Time{}
	for key, p := range newest {
		if p.at.Before(cutoff[p.metric]) {
			continue
		}
		want[key] = p.value
		if p.at.After(lastSample[p.host]) {
			lastSample[p.host] = p.at
		}
	}
	for host, at := range lastSample {
		want[seriesKey(promexport.LastSampleMetric, map[string]string{"host": host})] = float64(at.UnixMilli()) / 1000
	}
	return want
}

func TestMetricsExposesNewestValues(t *testing.T) {
	srv := servertest.Start(t, nil)
	agent := servertest.AgentToken(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	batches := testData(base)
	for _, b := range batches {
		ingest(t, srv.URL, agent, b)
	}
	execSQL(t, srv.DatabaseURL, `INSERT INTO hosts (host, first_seen, last_seen, retired_at) VALUES ($1, $2, $2, now())
ON CONFLICT (host) DO UPDATE SET retired_at = now()`, "old-1", base)

	status, contentType, body := scrape(t, srv.URL, readToken(t))
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s, want 200", status, body)
	}
	if !strings.HasPrefix(contentType, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the Prometheus text format 0.0.4", contentType)
	}
	families := parse(t, body)

	got := map[string]float64{}
	for name, f := range families {
		if f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s has type %s, want gauge", name, f.GetType())
		}
		for _, m := range f.GetMetric() {
			if m.TimestampMs != nil {
				t.Errorf("%s carries timestamp %d, want none", name, m.GetTimestampMs())
			}
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			got[seriesKey(name, labels)] = m.GetGauge().GetValue()
		}
	}

	want := expectedSeries(batches, map[string]bool{"old-1": true})
	for key, v := range want {
		g, ok := got[key]
		if !ok {
			t.Errorf("missing series %s", key)
			continue
		}
		if g != v {
			t.Errorf("%s = %v, want %v", key, g, v)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected series %s", key)
		}
	}
}

func TestMetricsHelpFromAllowlist(t *testing.T) {
	srv := servertest.Start(t, nil)
	agent := servertest.AgentToken(t)
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)

	var points []model.Metric
	for _, name := range model.MetricNames() {
		m := model.Metric{Time: at, Name: name, Value: 1}
		if label := model.Metrics[name].Label; label != "" {
			m.Labels = map[string]string{label: "x"}
		}
		points = append(points, m)
	}
	ingest(t, srv.URL, agent, model.MetricBatch{Host: "h", Metrics: points})

	_, _, body := scrape(t, srv.URL, readToken(t))
	families := parse(t, body)
	for _, name := range model.MetricNames() {
		f, ok := families[promexport.MetricName(name)]
		if !ok {
			t.Errorf("family %s for %s missing", promexport.MetricName(name), name)
			continue
		}
		if f.GetHelp() != model.Metrics[name].Help {
			t.Errorf("%s help = %q, want %q", f.GetName(), f.GetHelp(), model.Metrics[name].Help)
		}
	}
}

func TestMetricNames(t *testing.T) {
	cases := map[string]string{
		model.CPUUsagePct:  "miniobserv_cpu_usage_pct",
		model.MemUsedBytes: "miniobserv_mem_used_bytes",
		model.NetBytesIn:   "miniobserv_net_bytes_in",
	}
	for in, want := range cases {
		if got := promexport.MetricName(in); got != want {
			t.Errorf("MetricName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, name := range model.MetricNames() {
		if !pmodel.LegacyValidation.IsValidMetricName(promexport.MetricName(name)) {
			t.Errorf("MetricName(%q) = %q is not a valid Prometheus name", name, promexport.MetricName(name))
		}
	}
}

func TestLabelNamesAvoidClashes(t *testing.T) {
	cases := map[string]string{"core": "core", "host": "exported_host", "__name__": "exported___name__"}
	for in, want := range cases {
		if got := promexport.LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMetricsNeedReadCredentials(t *testing.T) {
	srv := servertest.Start(t, nil)

	if status, _, body := scrape(t, srv.URL, ""); status != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s, want 401", status, body)
	}
	ingestOnly := servertest.Token(t, auth.IssuerCLI, auth.ScopeIngest, time.Hour)
	if status, _, body := scrape(t, srv.URL, ingestOnly); status != http.StatusForbidden {
		t.Errorf("with an ingest-only token: %d %s, want 403", status, body)
	}
	if status, _, body := scrape(t, srv.URL, readToken(t)); status != http.StatusOK {
		t.Errorf("with a read token: %d %s, want 200", status, body)
	}
}

func TestMetricsOpenWithPublicRead(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.PublicRead = []string{"/metrics"} })
	ingest(t, srv.URL, servertest.AgentToken(t), model.MetricBatch{Host: "h", Metrics: []model.Metric{
		{Time: time.Now().UTC().Add(-time.Minute), Name: model.MemUsedPct, Value: 42},
	}})

	status, _, body := scrape(t, srv.URL, "")
	if status != http.StatusOK {
		t.Fatalf("without a token: %d %s, want 200", status, body)
	}
	f, ok := parse(t, body)[promexport.MetricName(model.MemUsedPct)]
	if !ok || len(f.GetMetric()) != 1 || f.GetMetric()[0].GetGauge().GetValue() != 42 {
		t.Fatalf("mem.used_pct family = %v, want one series with value 42", f)
	}
}

func TestMetricsEmptyStore(t *testing.T) {
	srv := servertest.Start(t, nil)

	status, _, body := scrape(t, srv.URL, readToken(t))
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s, want 200", status, body)
	}
	if families := parse(t, body); len(families) != 0 {
		t.Fatalf("families = %v, want none on an empty store", families)
	}
}

func TestMetricsDatabaseOutage(t *testing.T) {
	db := pgtest.NewDatabase(t)
	proxy, viaProxy := pgtest.NewProxy(t, db)
	srv := servertest.Start(t, func(c *config.Config) { c.DatabaseURL = viaProxy })

	proxy.Cut()
	req, err := http.NewRequest("GET", srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+readToken(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("during outage: %d Retry-After=%q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
