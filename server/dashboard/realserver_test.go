package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
	"github.com/kamerrezz/theminidog/server/servertest"
)

// Liveness and alerting periods of the test server: short, so that a host
// goes stale and down, and an alert fires, within a few seconds.
const (
	hostStaleAfter = 2 * time.Second
	hostDownAfter  = 5 * time.Second
	alertEvalEvery = 250 * time.Millisecond
)

// The reporting host sends a batch every reportEvery, as an agent does,
// for at most maxReports batches.
const (
	reportingHost = "edge-3"
	reportEvery   = 400 * time.Millisecond
	maxReports    = 300
)

// Values the reporting host sends with every batch. They are chosen to
// breach the alert rules below and to avoid rounding ties in the
// dashboard's one-decimal percentages.
const (
	reportedCPU      = 97.37
	reportedMem      = 62.43
	reportedDiskLow  = 41.21
	reportedDiskHigh = 96.13
)

// alertRules are the server's ALERT_RULES. The reporting host keeps
// cpu-high firing, and mem-high pending because its for is longer than any
// test. disk-full fires when a test raises the reported disk usage. The
// seeded hosts breach none of the rules.
const alertRules = `[
 {"id": "cpu-high", "host": "*", "name": "cpu.usage_pct", "labels": {"core": "total"}, "op": ">", "threshold": 90, "for": "1s"},
 {"id": "mem-high", "host": "*", "name": "mem.used_pct", "op": ">", "threshold": 60, "for": "1h"},
 {"id": "disk-full", "host": "edge-3", "name": "disk.used_pct", "op": ">", "threshold": 90, "for": "0s"}
]`

// realSite is a real MiniObserv server on a fresh PostgreSQL database with
// the fixture's data sent through its ingest API. The browser talks to url,
// a second listener that serves the server's handler behind an
// Interceptor. The test's own ingest goes to apiURL, the server's listener,
// so the Interceptor records and fails only the page's requests.
type realSite struct {
	url       string
	apiURL    string
	instance  *servertest.Instance
	intercept *browsertest.Interceptor
	fixture   fixture
	// started is when the fixture was built, before the first batch.
	started time.Time
	// diskHigh makes the reporting host send reportedDiskHigh instead of
	// reportedDiskLow.
	diskHigh atomic.Bool
	// firstReport is closed after the reporting host's first accepted batch.
	firstReport chan struct{}
}

func startRealSite(t *testing.T) *realSite {
	t.Helper()
	inst := servertest.Start(t, func(c *config.Config) {
		c.HostStaleAfter = hostStaleAfter
		c.HostDownAfter = hostDownAfter
		c.AlertEvalEvery = alertEvalEvery
		c.AlertRules = alertRules
	})

	intercept := browsertest.NewInterceptor(inst.Server.Handler())
	srv := httptest.NewServer(intercept)
	t.Cleanup(srv.Close)

	now := time.Now()
	s := &realSite{
		url: srv.URL, apiURL: inst.URL, instance: inst, intercept: intercept,
		fixture: newFixture(now), started: now, firstReport: make(chan struct{}),
	}
	s.seed(t)
	s.startReporting(t)
	return s
}

// seed sends the fixture's metrics and logs, then brings the hourly rollup
// up to date as the server's periodic job would, because the rollup was
// last refreshed at start-up, before these samples existed.
func (s *realSite) seed(t *testing.T) {
	t.Helper()
	for _, h := range []seedHost{webHost, apiHost} {
		s.sendMetrics(t, h, s.fixture.samples)
	}

	byHost := map[string][]model.LogEntry{}
	for _, e := range s.fixture.logs {
		byHost[e.Host] = append(byHost[e.Host], model.LogEntry{Time: e.Time, Path: e.Path, Level: e.Level, Message: e.Message})
	}
	for host, entries := range byHost {
		s.post(t, "/api/v1/logs", model.LogBatch{Host: host, BatchID: "seed-logs-" + host, Entries: entries})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.instance.Server.Store().RefreshRollup(ctx, time.Now()); err != nil {
		t.Fatalf("refresh rollup after seeding: %v", err)
	}
}

// sendMetrics posts the samples of h in time order, in batches of at most
// 1000 points as the API requires.
func (s *realSite) sendMetrics(t *testing.T, h seedHost, samples []browsertest.Sample) {
	t.Helper()
	var points []model.Metric
	for _, smp := range samples {
		if smp.Host == h.name {
			points = append(points, model.Metric{Time: smp.Time, Name: smp.Name, Value: smp.Value, Labels: smp.Labels})
		}
	}
	slices.SortStableFunc(points, func(a, b model.Metric) int { return a.Time.Compare(b.Time) })

	const maxBatch = 1000
	for i := 0; i < len(points); i += maxBatch {
		batch := model.MetricBatch{
			Host:            h.name,
			BatchID:         fmt.Sprintf("seed-%s-%d", h.name, i/maxBatch),
			IntervalSeconds: h.interval.Seconds(),
			Metrics:         points[i:min(i+maxBatch, len(points))],
		}
		s.post(t, "/api/v1/metrics", batch)
	}
}

// post sends body to the ingest endpoint path with an agent token and
// fails the test unless the server accepts it.
func (s *realSite) post(t *testing.T, path string, body any) {
	t.Helper()
	if err := postBatch(context.Background(), s.apiURL+path, servertest.AgentToken(t), body); err != nil {
		t.Fatal(err)
	}
}

// postBatch sends one ingest request and returns an error unless the
// server accepts it within browsertest.DefaultTimeout.
func postBatch(ctx context.Context, url, token string, body any) error {
	ctx, cancel := context.WithTimeout(ctx, browsertest.DefaultTimeout)
	defer cancel()
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode batch for %s: %w", url, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("build request to %s: %w", url, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST %s: status %d, body %s", url, resp.StatusCode, answer)
	}
	return nil
}

// startReporting runs the reporting host: one batch every reportEvery, with
// the current time, until the test ends or maxReports batches were sent. A
// rejected batch fails the test when it ends.
func (s *realSite) startReporting(t *testing.T) {
	t.Helper()
	token := servertest.AgentToken(t)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	var (
		mu      sync.Mutex
		failure error
	)

	go func() {
		defer close(done)
		ticker := time.NewTicker(reportEvery)
		defer ticker.Stop()
		for n := range maxReports {
			if err := postBatch(ctx, s.apiURL+"/api/v1/metrics", token, s.report(n)); err != nil {
				if ctx.Err() == nil {
					mu.Lock()
					failure = err
					mu.Unlock()
				}
				return
			}
			if n == 0 {
				close(s.firstReport)
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()

	t.Cleanup(func() {
		stop()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if failure != nil {
			t.Errorf("reporting host %s: %v", reportingHost, failure)
		}
	})
}

// report is the reporting host's batch number n.
func (s *realSite) report(n int) model.MetricBatch {
	disk := reportedDiskLow
	if s.diskHigh.Load() {
		disk = reportedDiskHigh
	}
	now := time.Now().UTC()
	return model.MetricBatch{
		Host:    reportingHost,
		BatchID: reportingHost + "-" + strconv.Itoa(n),
		Metrics: []model.Metric{
			{Time: now, Name: model.CPUUsagePct, Value: reportedCPU, Labels: map[string]string{"core": "total"}},
			{Time: now, Name: model.MemUsedPct, Value: reportedMem},
			{Time: now, Name: model.DiskUsedPct, Value: disk, Labels: map[string]string{"mount": "/data"}},
		},
	}
}

// waitFirstReport waits until the reporting host is known to the server.
func (s *realSite) waitFirstReport(t *testing.T) {
	t.Helper()
	select {
	case <-s.firstReport:
	case <-time.After(browsertest.DefaultTimeout):
		t.Fatalf("reporting host %s sent no accepted batch within %s", reportingHost, browsertest.DefaultTimeout)
	}
}

// readToken mints a read token as `miniobserv-server token --scope read`
// does.
func readToken(t *testing.T) string {
	return servertest.Token(t, auth.IssuerCLI, auth.ScopeRead, time.Hour)
}

// signIn opens the one-time sign-in link of a new read token, which sets
// the session cookie and redirects to the dashboard.
func (s *realSite) signIn(t *testing.T, page *browsertest.Page) {
	t.Helper()
	page.Navigate(s.url + "/login?" + url.Values{"token": {readToken(t)}}.Encode())
	page.WaitFor(`window.location.pathname === "/" && document.getElementById("host-list") !== null`, "the dashboard after sign-in")
}

// open signs a new tab in and shows host over rangeID ("" for no host).
func (s *realSite) open(t *testing.T, opts browsertest.PageOptions, host, rangeID string) *browsertest.Page {
	t.Helper()
	page := sharedBrowser(t).NewPage(t, opts)
	s.signIn(t, page)
	page.Navigate(s.dashboardURL(host, rangeID))
	return page
}

// dashboardURL is the page URL showing host over range ("" for no host).
func (s *realSite) dashboardURL(host, rangeID string) string {
	u := s.url + "/?refresh=" + refreshSeconds
	if host == "" {
		return u
	}
	return u + "#host=" + host + "&range=" + rangeID
}
