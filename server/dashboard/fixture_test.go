package dashboard_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/dashboard"
	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
)

// refreshSeconds is the dashboard's poll interval in these tests (set
// through ?refresh=), short so that waits for the next refresh are short.
const refreshSeconds = "0.5"

// sampleInterval is the collection interval of the fixture's agents.
const sampleInterval = 10 * time.Second

// fixture is a data set built around the time the test starts. Samples
// stop just before the current minute, so the newest 1m bucket
// (newestBucket) is complete and stays the newest while the test runs.
type fixture struct {
	newestBucket time.Time
	data         browsertest.Dataset
}

func newFixture(now time.Time) fixture {
	end := browsertest.BucketStart(now, time.Minute)
	fx := fixture{newestBucket: end.Add(-time.Minute)}

	fx.data.Hosts = []browsertest.Host{
		{Name: "web-1", Status: "ok", LastSeen: now.Add(-3 * time.Second), IntervalSeconds: sampleInterval.Seconds()},
		{Name: "api-2", Status: "ok", LastSeen: now.Add(-5 * time.Second)},
		{Name: "db-1", Status: "stale", LastSeen: now.Add(-35 * time.Second)},
		{Name: "cache-1", Status: "down", LastSeen: now.Add(-10 * time.Minute)},
		{Name: "alpha-0", Status: "down", LastSeen: now.Add(-2 * time.Hour)},
		{Name: "batch-9", Status: "unknown"},
	}

	// 30 minutes of samples every 10 s; the last one is 10 s before end.
	const count = 180
	for k := range count {
		at := end.Add(-time.Duration(count-k) * sampleInterval)
		fx.addWebSamples("web-1", at, k)
		fx.addWebSamples("api-2", at, k)
	}
	fx.data.Samples = withoutMount(fx.data.Samples, "api-2", "/")

	fx.data.Logs = makeLogs(end)
	return fx
}

// addWebSamples adds one tick of every metric for host. The values are
// smooth functions of k with odd fractions, so that no average lands on a
// rounding tie.
func (fx *fixture) addWebSamples(host string, at time.Time, k int) {
	kf := float64(k)
	cpu := 30 + 20*math.Sin(kf/7) + 0.137*float64(k%5)
	add := func(name string, labels map[string]string, value float64) {
		fx.data.Samples = append(fx.data.Samples, browsertest.Sample{Host: host, Name: name, Labels: labels, Time: at, Value: value})
	}

	add(model.CPUUsagePct, map[string]string{"core": "total"}, cpu)
	add(model.CPUUsagePct, map[string]string{"core": "0"}, cpu+5.31)
	add(model.CPUUsagePct, map[string]string{"core": "1"}, cpu-4.13)

	const memTotal = 8 << 30
	memUsed := 3.2*(1<<30) + kf*1_234_567
	add(model.MemTotalBytes, nil, memTotal)
	add(model.MemUsedBytes, nil, memUsed)
	add(model.MemUsedPct, nil, memUsed/memTotal*100)

	for _, d := range []struct {
		mount       string
		total, used float64
	}{
		{"/", 50 << 30, 20*(1<<30) + kf*98_765},
		{"/data", 500 << 30, 400*(1<<30) + kf*1_000_003},
	} {
		labels := map[string]string{"mount": d.mount}
		add(model.DiskTotalBytes, labels, d.total)
		add(model.DiskUsedBytes, labels, d.used)
		add(model.DiskUsedPct, labels, d.used/d.total*100)
	}

	add(model.NetBytesIn, map[string]string{"iface": "eth0"}, 1_500_000+kf*1001)
	add(model.NetBytesIn, map[string]string{"iface": "eth1"}, 250_000+kf*333)
	add(model.NetBytesOut, map[string]string{"iface": "eth0"}, 600_000+kf*777)
	add(model.NetBytesOut, map[string]string{"iface": "eth1"}, 50_000+kf*11)
}

func withoutMount(samples []browsertest.Sample, host, mount string) []browsertest.Sample {
	var out []browsertest.Sample
	for _, s := range samples {
		if s.Host == host && s.Labels["mount"] == mount {
			continue
		}
		out = append(out, s)
	}
	return out
}

// makeLogs writes 75 entries for web-1, one every 20 s back from end, and
// a few for api-2. Every fifth web-1 message mentions the disk, with "Disk"
// capitalised in every tenth so that search must ignore case.
func makeLogs(end time.Time) []browsertest.LogEntry {
	levels := []string{"info", "warn", "error", "debug"}
	var logs []browsertest.LogEntry
	for i := range 75 {
		msg := fmt.Sprintf("request served in %d ms (entry %d)", 20+i, i)
		switch {
		case i%10 == 0:
			msg = fmt.Sprintf("Disk /data at %d%% used (entry %d)", 80+i%20, i)
		case i%5 == 0:
			msg = fmt.Sprintf("disk /data at %d%% used (entry %d)", 80+i%20, i)
		}
		logs = append(logs, browsertest.LogEntry{
			ID:      int64(1000 + i),
			Time:    end.Add(-time.Duration(i) * 20 * time.Second),
			Host:    "web-1",
			Path:    []string{"/var/log/syslog", "/var/log/app.log"}[i%2],
			Level:   levels[i%len(levels)],
			Message: msg,
		})
	}
	for i := range 3 {
		logs = append(logs, browsertest.LogEntry{ID: int64(5000 + i), Time: end.Add(-time.Duration(i) * time.Minute), Host: "api-2", Path: "/var/log/api.log", Level: "info", Message: fmt.Sprintf("disk check on api-2 (%d)", i)})
	}
	return logs
}

// mean averages the values of the samples of host and metric that keep
// accepts, from the newest 1m bucket.
func (fx fixture) mean(host, name string, keep func(map[string]string) bool) float64 {
	sum, n := 0.0, 0
	for _, s := range fx.newestSamples(host, name, keep) {
		sum += s.Value
		n++
	}
	return sum / float64(n)
}

// total adds up the values of the newest 1m bucket's samples of host and
// metric that keep accepts.
func (fx fixture) total(host, name string, keep func(map[string]string) bool) float64 {
	sum := 0.0
	for _, s := range fx.newestSamples(host, name, keep) {
		sum += s.Value
	}
	return sum
}

// ticks counts the distinct sample times of host and metric in the newest
// 1m bucket.
func (fx fixture) ticks(host, name string) int {
	times := map[time.Time]bool{}
	for _, s := range fx.newestSamples(host, name, anyLabels) {
		times[s.Time] = true
	}
	return len(times)
}

func (fx fixture) newestSamples(host, name string, keep func(map[string]string) bool) []browsertest.Sample {
	var out []browsertest.Sample
	for _, s := range fx.data.Samples {
		if s.Host == host && s.Name == name && !s.Time.Before(fx.newestBucket) && keep(s.Labels) {
			out = append(out, s)
		}
	}
	return out
}

func label(key, value string) func(map[string]string) bool {
	return func(l map[string]string) bool { return l[key] == value }
}

func anyLabels(map[string]string) bool { return true }

// site is a test server: the dashboard, its sign-in page and the fake API,
// behind an Interceptor.
type site struct {
	url       string
	fake      *browsertest.FakeAPI
	intercept *browsertest.Interceptor
	fixture   fixture
}

func startSite(t *testing.T) *site {
	t.Helper()
	fx := newFixture(time.Now())
	fake := browsertest.NewFakeAPI(fx.data)

	mux := http.NewServeMux()
	mux.Handle("/api/", fake)
	mux.Handle("/login", dashboard.LoginHandler())
	mux.Handle("/", dashboard.Handler())
	intercept := browsertest.NewInterceptor(mux)

	srv := httptest.NewServer(intercept)
	t.Cleanup(srv.Close)
	return &site{url: srv.URL, fake: fake, intercept: intercept, fixture: fx}
}

// dashboardURL is the page URL showing host over range ("" for no host).
func (s *site) dashboardURL(host, rangeID string) string {
	u := s.url + "/?refresh=" + refreshSeconds
	if host == "" {
		return u
	}
	return u + "#host=" + host + "&range=" + rangeID
}

// One Chromium serves every test in the package; each test opens its own
// tab in its own browser context.
var shared struct {
	once    sync.Once
	browser *browsertest.Browser
	dir     string
	err     error
}

func sharedBrowser(t *testing.T) *browsertest.Browser {
	t.Helper()
	shared.once.Do(func() {
		path, err := browsertest.FindChromium()
		if err != nil {
			shared.err = err
			return
		}
		if shared.dir, err = os.MkdirTemp("", "dashboard-chromium-"); err != nil {
			shared.err = fmt.Errorf("create chromium profile directory: %w", err)
			return
		}
		shared.browser, shared.err = browsertest.Launch(path, shared.dir)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.browser
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.browser != nil {
		shared.browser.Close()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
