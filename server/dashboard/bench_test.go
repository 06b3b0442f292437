package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/servertest"
	"github.com/kamerrezz/theminidog/server/storage"
)

// Data set of BenchmarkDashboardHostView: benchHosts hosts with one day of
// samples every benchStep, of which the first benchLongHosts have 30 days.
// Each host has the 16 series an agent on a two-core machine with two
// mounts and two interfaces sends.
const (
	benchHosts     = 100
	benchLongHosts = 5
	benchStep      = time.Minute
	benchShortSpan = 24 * time.Hour
	benchLongSpan  = 30 * 24 * time.Hour
	// benchLogEvery is the time between two seeded log entries of a host.
	benchLogEvery = 5 * time.Minute
)

// benchSeries are the series of every benchmark host: metric, labels, and
// the mean and amplitude of a sine over the day.
const benchSeries = `(VALUES
 ('cpu.usage_pct',   '{"core":"total"}'::jsonb, 30.0, 20.0),
 ('cpu.usage_pct',   '{"core":"0"}',            35.0, 20.0),
 ('cpu.usage_pct',   '{"core":"1"}',            25.0, 20.0),
 ('mem.used_pct',    '{}',                      40.0, 10.0),
 ('mem.used_bytes',  '{}',                      3.4e9, 8e8),
 ('mem.total_bytes', '{}',                      8589934592, 0),
 ('disk.used_pct',   '{"mount":"/"}',           40.0, 5.0),
 ('disk.used_pct',   '{"mount":"/data"}',       80.0, 5.0),
 ('disk.used_bytes', '{"mount":"/"}',           2.1e10, 1e9),
 ('disk.used_bytes', '{"mount":"/data"}',       4.3e11, 1e9),
 ('disk.total_bytes','{"mount":"/"}',           5.4e10, 0),
 ('disk.total_bytes','{"mount":"/data"}',       5.4e11, 0),
 ('net.bytes_in',    '{"iface":"eth0"}',        1.5e6, 5e5),
 ('net.bytes_in',    '{"iface":"eth1"}',        2.5e5, 1e5),
 ('net.bytes_out',   '{"iface":"eth0"}',        6e5, 2e5),
 ('net.bytes_out',   '{"iface":"eth1"}',        5e4, 1e4)
) AS s(name, labels, base, amp)`

// seedChunk is the time span of one INSERT. Rows go in in time order
// across hosts, as agents' batches arrive, so that a host's rows are spread
// over the table as in production and not packed together.
const seedChunk = 6 * time.Hour

// benchRange is a range of the dashboard's picker (web/src/ranges.js).
type benchRange struct {
	id     string
	span   time.Duration
	bucket time.Duration
	// bucketName is the bucket as the query API names it.
	bucketName string
}

var (
	range24h = benchRange{id: "24h", span: 24 * time.Hour, bucket: 5 * time.Minute, bucketName: "5m"}
	range30d = benchRange{id: "30d", span: 30 * 24 * time.Hour, bucket: time.Hour, bucketName: "1h"}
)

func benchHostName(n int) string { return fmt.Sprintf("host-%03d", n) }

// BenchmarkDashboardHostView measures the requests the dashboard sends
// when a user opens one host: those of the first refresh cycle, in the
// page's order and concurrency, against the real server on PostgreSQL. One
// op is one host view, and ms/view is its wall time.
//
// Sub-benchmarks: 24h and 30d view host-000, which has 30 days of history;
// 24h-day-host views host-050, which has one day; 30d-no-rollup is 30d with
// the hourly rollup turned off, so every bucket is read from raw rows.
// Besides ms/view, each reports ENDPOINT-ms, the time one view spends on
// each endpoint when its requests are sent one at a time (and logs the time
// of every request), and 30d and
// 30d-no-rollup report their ms/view as a multiple of 24h (x-24h) and of
// 30d (x-rollup).
func BenchmarkDashboardHostView(b *testing.B) {
	cfg := benchConfig(b)
	seedSummary := seedBenchDatabase(b, cfg.DatabaseURL)
	inst := servertest.StartConfig(b, cfg)
	registerBenchHosts(b, inst.URL)

	v := newViewer(inst.URL, servertest.Token(b, auth.IssuerCLI, auth.ScopeRead, time.Hour))
	perView := map[string]float64{}
	for i, c := range []struct {
		name   string
		host   string
		rng    benchRange
		rollup bool
		// ratioTo names the earlier case this one is reported against.
		ratioTo, ratioUnit string
	}{
		{name: "24h", host: benchHostName(0), rng: range24h, rollup: true},
		{name: "24h-day-host", host: benchHostName(50), rng: range24h, rollup: true},
		{name: "30d", host: benchHostName(0), rng: range30d, rollup: true, ratioTo: "24h", ratioUnit: "x-24h"},
		{name: "30d-no-rollup", host: benchHostName(0), rng: range30d, rollup: false, ratioTo: "30d", ratioUnit: "x-rollup"},
	} {
		b.Run(c.name, func(b *testing.B) {
			// b.Loop runs this function once, so each line is logged once.
			if i == 0 {
				b.Log(seedSummary)
			}
			inst.Server.Store().SetRollupQueries(c.rollup)
			defer inst.Server.Store().SetRollupQueries(true)
			if err := v.checkView(c.host, c.rng, time.Now()); err != nil {
				b.Fatal(err)
			}

			for b.Loop() {
				if _, err := v.fetchView(c.host, c.rng, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			perView[c.name] = ms
			b.ReportMetric(ms, "ms/view")
			b.ReportMetric(float64(requestsPerView()), "requests/view")
			if base := perView[c.ratioTo]; base > 0 {
				b.ReportMetric(ms/base, c.ratioUnit)
			}

			// Untimed (b.Loop has stopped the timer): the cost of each
			// request without the others competing for the two cores.
			breakdown, err := v.requestTimes(c.host, c.rng, 3)
			if err != nil {
				b.Fatal(err)
			}
			for endpoint, d := range breakdown.perEndpoint() {
				b.ReportMetric(float64(d.Microseconds())/1000, endpoint+"-ms")
			}
			b.Log("requests one at a time, ms: " + breakdown.String())
		})
	}
}

func benchConfig(b *testing.B) config.Config {
	b.Helper()
	cfg := config.Default()
	cfg.DatabaseURL = pgtest.NewDatabase(b)
	cfg.AgentToken = servertest.Secret
	cfg.ListenAddr = "127.0.0.1:0"
	// The oldest seeded rows are 30 days old; a longer retention keeps the
	// start-up prune from deleting them while the benchmark runs.
	cfg.MetricsRetention = 35 * 24 * time.Hour
	if err := cfg.Validate(); err != nil {
		b.Fatalf("benchmark server config: %v", err)
	}
	return cfg
}

// seedBenchDatabase migrates the database, writes the data set with SQL
// (generate_series) and fills the hourly rollup, before the server starts.
// It returns a line that describes the data and how long seeding took.
func seedBenchDatabase(b *testing.B, databaseURL string) string {
	b.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := storage.NewMigrator(databaseURL, "", log)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Up(); err != nil {
		m.Close()
		b.Fatalf("migrate benchmark database: %v", err)
	}
	m.Close()

	ctx := context.Background()
	st, err := storage.Open(ctx, storage.Options{URL: databaseURL, Mode: storage.ModeAuto, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()

	started := time.Now()
	end := started.Truncate(benchStep)
	rows, err := insertBenchMetrics(ctx, st, end)
	if err != nil {
		b.Fatal(err)
	}
	logRows, err := insertBenchLogs(ctx, st, end)
	if err != nil {
		b.Fatal(err)
	}
	seeded := time.Now()

	if err := st.RefreshRollup(ctx, time.Now()); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatalf("analyze benchmark database: %v", err)
	}
	var rollupRows int64
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM metrics_1h").Scan(&rollupRows); err != nil {
		b.Fatalf("count rollup rows: %v", err)
	}
	return fmt.Sprintf("seeded %d metric rows and %d log rows in %s (%s storage); rollup of %d rows built in %s",
		rows, logRows, seeded.Sub(started).Round(time.Second), st.Mode(), rollupRows, time.Since(seeded).Round(time.Second))
}

// insertBenchMetrics writes every host's samples up to end in time order,
// seedChunk at a time, and returns the number of rows.
func insertBenchMetrics(ctx context.Context, st *storage.Store, end time.Time) (int64, error) {
	const insert = `INSERT INTO metrics (time, host, name, value, labels)
SELECT ts, format('host-%s', lpad(h::text, 3, '0')), s.name,
       greatest(s.base + s.amp * sin(extract(epoch FROM ts) / 3600.0 + h), 0), s.labels
FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 microsecond', $3::interval) AS ts
CROSS JOIN generate_series(0, $4::int - 1) AS h
CROSS JOIN ` + benchSeries + `
ORDER BY ts, h`

	var total int64
	for from := end.Add(-benchLongSpan); from.Before(end); from = from.Add(seedChunk) {
		to := from.Add(seedChunk)
		hosts := benchLongHosts
		if !from.Before(end.Add(-benchShortSpan)) {
			// The chunk lies in the last day, which every host reports. The
			// day is a whole number of chunks, so no chunk straddles it.
			hosts = benchHosts
		}
		tag, err := st.Pool().Exec(ctx, insert, from, to, benchStep, hosts)
		if err != nil {
			return total, fmt.Errorf("seed metrics from %s: %w", from, err)
		}
		total += tag.RowsAffected()
	}
	return total, nil
}

// insertBenchLogs writes one log entry per host every benchLogEvery over
// each host's history.
func insertBenchLogs(ctx context.Context, st *storage.Store, end time.Time) (int64, error) {
	const insert = `INSERT INTO logs (time, host, path, level, message)
SELECT ts, format('host-%s', lpad(h::text, 3, '0')), '/var/log/syslog',
       (ARRAY['info', 'warn', 'error', 'debug'])[1 + (extract(epoch FROM ts)::bigint / 300) % 4],
       format('request %s served in %s ms', extract(epoch FROM ts)::bigint, 20 + h)
FROM generate_series(0, $4::int - 1) AS h
CROSS JOIN LATERAL generate_series(
    CASE WHEN h < $5 THEN $1::timestamptz ELSE $2::timestamptz END,
    $3::timestamptz - interval '1 microsecond', interval '5 minutes') AS ts
ORDER BY ts, h`
	if benchLogEvery != 5*time.Minute {
		return 0, fmt.Errorf("seed logs: the SQL writes one entry per 5 minutes, not per %s", benchLogEvery)
	}
	tag, err := st.Pool().Exec(ctx, insert, end.Add(-benchLongSpan), end.Add(-benchShortSpan), end, benchHosts, benchLongHosts)
	if err != nil {
		return 0, fmt.Errorf("seed logs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// registerBenchHosts sends one batch per host through the ingest API, so
// that the server lists every host as reporting with a 60 s interval, as
// its agents would after a restart of the server.
func registerBenchHosts(b *testing.B, baseURL string) {
	b.Helper()
	token := servertest.AgentToken(b)
	now := time.Now().UTC()
	for n := range benchHosts {
		batch := model.MetricBatch{
			Host: benchHostName(n), IntervalSeconds: benchStep.Seconds(),
			Metrics: []model.Metric{{Time: now, Name: model.MemUsedPct, Value: 40}},
		}
		if err := postBatch(context.Background(), baseURL+"/api/v1/metrics", token, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// viewer makes a host view's requests as the dashboard does.
type viewer struct {
	base   string
	token  string
	client *http.Client
}

func newViewer(base, token string) *viewer {
	// Browsers open at most six HTTP/1.1 connections per origin.
	transport := &http.Transport{MaxConnsPerHost: 6, MaxIdleConnsPerHost: 6}
	return &viewer{base: base, token: token, client: &http.Client{Transport: transport, Timeout: time.Minute}}
}

// apiRequest is one GET of the dashboard.
type apiRequest struct {
	path   string
	params url.Values
}

// chartMetrics are the queries of the six charts with their default
// breakdown (web/src/charts.js): one per line, host-level series.
var chartMetrics = []string{
	model.CPUUsagePct,
	model.MemUsedPct,
	model.MemUsedBytes, model.MemTotalBytes,
	model.DiskUsedPct,
	model.DiskUsedBytes, model.DiskTotalBytes,
	model.NetBytesIn, model.NetBytesOut,
}

// seriesMetrics are the metrics whose label values fill the breakdown
// selectors, listed on the first refresh of a host.
var seriesMetrics = []string{model.CPUUsagePct, model.DiskUsedPct, model.DiskUsedBytes, model.NetBytesIn}

// logPageSize is LOG_PAGE_SIZE of web/src/logs.js.
const logPageSize = 50

// viewRequests returns the requests of a host view at now, in three groups
// as the page sends them. The host list comes first. Then the alerts, the
// log page and the breakdown label lists go out at once, and the chart
// queries follow when the label lists are in. The host reports an
// interval, so the network charts query agg=avg.
func viewRequests(host string, rng benchRange, now time.Time) (first []apiRequest, parallel []apiRequest, charts []apiRequest) {
	bucketMs := rng.bucket.Milliseconds()
	nowMs := now.UnixMilli()
	fromMs := int64(math.Ceil(float64(nowMs-rng.span.Milliseconds())/float64(bucketMs))) * bucketMs
	iso := func(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00") }

	first = []apiRequest{{path: "/api/v1/hosts"}}
	parallel = []apiRequest{
		{path: "/api/v1/alerts"},
		{path: "/api/v1/logs/query", params: url.Values{"host": {host}, "from": {iso(fromMs)}, "limit": {fmt.Sprint(logPageSize)}}},
	}
	for _, name := range seriesMetrics {
		parallel = append(parallel, apiRequest{path: "/api/v1/series", params: url.Values{"host": {host}, "name": {name}}})
	}
	for _, name := range chartMetrics {
		charts = append(charts, apiRequest{path: "/api/v1/metrics/query", params: url.Values{
			"host": {host}, "name": {name}, "from": {iso(fromMs)}, "to": {iso(nowMs)}, "bucket": {rng.bucketName}, "agg": {"avg"},
		}})
	}
	return first, parallel, charts
}

func requestsPerView() int {
	first, parallel, charts := viewRequests("h", range24h, time.Now())
	return len(first) + len(parallel) + len(charts)
}

// requestTime is the mean time of one request of a view.
type requestTime struct {
	// endpoint is the path after /api/v1/ with "-" for "/" (hosts, alerts,
	// series, metrics-query, logs-query).
	endpoint string
	// metric is the name parameter, empty for endpoints without one.
	metric string
	took   time.Duration
}

// requestTimes are the requests of one view in the page's order.
type requestTimes []requestTime

// perEndpoint adds up the times per endpoint.
func (rt requestTimes) perEndpoint() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, r := range rt {
		out[r.endpoint] += r.took
	}
	return out
}

// String lists every request with its time in milliseconds.
func (rt requestTimes) String() string {
	parts := make([]string, len(rt))
	for i, r := range rt {
		name := r.endpoint
		if r.metric != "" {
			name += " " + r.metric
		}
		parts[i] = fmt.Sprintf("%s %.1f", name, float64(r.took.Microseconds())/1000)
	}
	return strings.Join(parts, ", ")
}

// requestTimes makes a view's requests one at a time, passes times, and
// returns the mean time of each request.
func (v *viewer) requestTimes(host string, rng benchRange, passes int) (requestTimes, error) {
	var out requestTimes
	for pass := range passes {
		first, parallel, charts := viewRequests(host, rng, time.Now())
		for i, r := range slices.Concat(first, parallel, charts) {
			start := time.Now()
			if _, err := v.get(r); err != nil {
				return nil, err
			}
			if pass == 0 {
				out = append(out, requestTime{endpoint: strings.ReplaceAll(strings.TrimPrefix(r.path, "/api/v1/"), "/", "-"), metric: r.params.Get("name")})
			}
			out[i].took += time.Since(start)
		}
	}
	for i := range out {
		out[i].took /= time.Duration(passes)
	}
	return out, nil
}

// checkView loads one view and checks that every chart query returned
// points, so that the benchmark measures a view with data.
func (v *viewer) checkView(host string, rng benchRange, now time.Time) error {
	bodies, err := v.fetchView(host, rng, now)
	if err != nil {
		return err
	}
	wantPoints := int(rng.span / rng.bucket)
	for _, body := range bodies {
		var resp struct {
			Name   string            `json:"name"`
			Points []json.RawMessage `json:"points"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			return fmt.Errorf("decode chart query of %s: %w", host, err)
		}
		// Every bucket of the range has samples, give or take the partial
		// buckets at both ends.
		if len(resp.Points) < wantPoints-2 {
			return fmt.Errorf("%s over %s: %d points, want about %d: the data set is incomplete", resp.Name, rng.id, len(resp.Points), wantPoints)
		}
	}
	return nil
}

// fetchView makes the requests of one view and returns the chart query
// bodies.
func (v *viewer) fetchView(host string, rng benchRange, now time.Time) ([][]byte, error) {
	first, parallel, charts := viewRequests(host, rng, now)
	if _, err := v.getAll(first); err != nil {
		return nil, err
	}

	var (
		wg          sync.WaitGroup
		otherErr    error
		chartErr    error
		chartBodies [][]byte
	)
	// The log page and the alerts load while the charts list label values
	// and then query. The label lists are parallel[2:].
	wg.Go(func() { _, otherErr = v.getAll(parallel[:2]) })
	wg.Go(func() {
		if _, chartErr = v.getAll(parallel[2:]); chartErr == nil {
			chartBodies, chartErr = v.getAll(charts)
		}
	})
	wg.Wait()
	if otherErr != nil {
		return nil, otherErr
	}
	return chartBodies, chartErr
}

// getAll sends the requests at once and returns their bodies in order, or
// the first failure.
func (v *viewer) getAll(reqs []apiRequest) ([][]byte, error) {
	bodies := make([][]byte, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() { bodies[i], errs[i] = v.get(r) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return bodies, nil
}

func (v *viewer) get(r apiRequest) ([]byte, error) {
	u := v.base + r.path
	if len(r.params) > 0 {
		u += "?" + r.params.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request %s: %w", u, err)
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	req.Header.Set("Accept", "application/json")

	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d, body %s", u, resp.StatusCode, body)
	}
	return body, nil
}
