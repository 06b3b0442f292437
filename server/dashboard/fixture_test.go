package dashboard_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
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

// seedSpan is how far back the seeded metrics reach.
const seedSpan = time.Hour

// seedHost is a host whose history the fixture sends through the ingest
// API before the browser opens.
type seedHost struct {
	name string
	// step is the time between two samples.
	step time.Duration
	// interval is the collection interval the batches declare; 0 sends
	// none, so the dashboard derives network rates from bucket sums.
	interval time.Duration
	// rootMount is false for a host without a "/" mount.
	rootMount bool
}

// Seeded hosts. web-1 declares a 30 s interval, so it stays ok for twice
// that after its last batch. api-2 declares none, so it turns stale and
// then down after HOST_STALE_AFTER and HOST_DOWN_AFTER of silence.
var (
	webHost = seedHost{name: "web-1", step: 30 * time.Second, interval: 30 * time.Second, rootMount: true}
	apiHost = seedHost{name: "api-2", step: 10 * time.Second}
)

// logEntry is a seeded log line. Level is what the agent sends; the
// server stores its normalised form (model.NormalizeLevel).
type logEntry struct {
	Time    time.Time
	Host    string
	Path    string
	Level   string
	Message string
}

// storedLevel is the level the server stores for e.
func (e logEntry) storedLevel() string {
	level, _ := model.NormalizeLevel(e.Level)
	return level
}

// fixture is the data sent to the server, built around the time the test
// starts. Samples stop just before the current minute, so the newest 1m
// bucket (newestBucket) is complete and stays the newest while the test
// runs.
type fixture struct {
	newestBucket time.Time
	samples      []browsertest.Sample
	logs         []logEntry
}

func newFixture(now time.Time) fixture {
	end := browsertest.BucketStart(now, time.Minute)
	fx := fixture{newestBucket: end.Add(-time.Minute)}
	for _, h := range []seedHost{webHost, apiHost} {
		count := int(seedSpan / h.step)
		for k := range count {
			fx.addSamples(h, end.Add(-time.Duration(count-k)*h.step), k)
		}
	}
	fx.logs = makeLogs(end)
	return fx
}

// addSamples adds one tick of every metric for h. The values are smooth
// functions of k with odd fractions, so that no average lands on a
// rounding tie.
func (fx *fixture) addSamples(h seedHost, at time.Time, k int) {
	kf := float64(k)
	cpu := 30 + 20*math.Sin(kf/7) + 0.137*float64(k%5)
	add := func(name string, labels map[string]string, value float64) {
		fx.samples = append(fx.samples, browsertest.Sample{Host: h.name, Name: name, Labels: labels, Time: at, Value: value})
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
		if d.mount == "/" && !h.rootMount {
			continue
		}
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

// makeLogs writes 75 entries for web-1, one every 20 s back from end, and
// a few for api-2. Every fifth web-1 message mentions the disk, with "Disk"
// capitalised in every tenth so that search must ignore case. Levels are
// sent in the spellings agents see in log files.
func makeLogs(end time.Time) []logEntry {
	levels := []string{"INFO", "warning", "ERR", "debug", "Error", "notice"}
	var logs []logEntry
	for i := range 75 {
		msg := fmt.Sprintf("request served in %d ms (entry %d)", 20+i, i)
		switch {
		case i%10 == 0:
			msg = fmt.Sprintf("Disk /data at %d%% used (entry %d)", 80+i%20, i)
		case i%5 == 0:
			msg = fmt.Sprintf("disk /data at %d%% used (entry %d)", 80+i%20, i)
		}
		logs = append(logs, logEntry{
			Time:    end.Add(-time.Duration(i) * 20 * time.Second),
			Host:    webHost.name,
			Path:    []string{"/var/log/syslog", "/var/log/app.log"}[i%2],
			Level:   levels[i%len(levels)],
			Message: msg,
		})
	}
	for i := range 3 {
		logs = append(logs, logEntry{Time: end.Add(-time.Duration(i) * time.Minute), Host: apiHost.name, Path: "/var/log/api.log", Level: "info", Message: fmt.Sprintf("disk check on api-2 (%d)", i)})
	}
	return logs
}

// filterLogs returns the messages the log panel should list for host, a
// stored level ("" for any) and a search text, newest first. Search is a
// case-insensitive substring match, as the server does it.
func (fx fixture) filterLogs(host, level, q string) []string {
	var matches []logEntry
	for _, e := range fx.logs {
		if e.Host != host || (level != "" && e.storedLevel() != level) {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(e.Message), strings.ToLower(q)) {
			continue
		}
		matches = append(matches, e)
	}
	slices.SortStableFunc(matches, func(a, b logEntry) int { return b.Time.Compare(a.Time) })

	messages := make([]string, len(matches))
	for i, e := range matches {
		messages[i] = e.Message
	}
	return messages
}

// newestSamples returns the samples of host and metric that keep accepts,
// from the newest bucket of the given length that has any.
func (fx fixture) newestSamples(host, name string, keep func(map[string]string) bool, bucket time.Duration) []browsertest.Sample {
	var newest time.Time
	var out []browsertest.Sample
	for _, s := range fx.samples {
		if s.Host != host || s.Name != name || !keep(s.Labels) {
			continue
		}
		start := browsertest.BucketStart(s.Time, bucket)
		switch {
		case start.After(newest):
			newest, out = start, []browsertest.Sample{s}
		case start.Equal(newest):
			out = append(out, s)
		}
	}
	return out
}

// mean averages the values of the samples of host and metric that keep
// accepts, from the newest 1m bucket.
func (fx fixture) mean(host, name string, keep func(map[string]string) bool) float64 {
	return fx.meanIn(host, name, keep, time.Minute)
}

// meanIn is mean over the newest bucket of the given length.
func (fx fixture) meanIn(host, name string, keep func(map[string]string) bool, bucket time.Duration) float64 {
	samples := fx.newestSamples(host, name, keep, bucket)
	sum := 0.0
	for _, s := range samples {
		sum += s.Value
	}
	return sum / float64(len(samples))
}

// total adds up the values of the newest 1m bucket's samples of host and
// metric that keep accepts.
func (fx fixture) total(host, name string, keep func(map[string]string) bool) float64 {
	sum := 0.0
	for _, s := range fx.newestSamples(host, name, keep, time.Minute) {
		sum += s.Value
	}
	return sum
}

// ticks counts the distinct sample times of host and metric in the newest
// 1m bucket.
func (fx fixture) ticks(host, name string) int {
	times := map[time.Time]bool{}
	for _, s := range fx.newestSamples(host, name, anyLabels, time.Minute) {
		times[s.Time] = true
	}
	return len(times)
}

func label(key, value string) func(map[string]string) bool {
	return func(l map[string]string) bool { return l[key] == value }
}

func anyLabels(map[string]string) bool { return true }

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

// startFakeSite serves the dashboard, its sign-in page and a FakeAPI of
// data, for the situations the real server cannot produce, and returns the
// base URL.
func startFakeSite(t *testing.T, data browsertest.Dataset) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/api/", browsertest.NewFakeAPI(data))
	mux.Handle("/login", dashboard.LoginHandler())
	mux.Handle("/", dashboard.Handler())

	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
