package dashboard_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the viewer's zone below must load on machines without zoneinfo

	"github.com/chromedp/chromedp/kb"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
)

// viewerZone is the time zone the browser reports in the tests that check
// times: a zone with a half-hour offset and no daylight saving time, so
// that a time shown in UTC or the machine's zone cannot pass by accident.
const viewerZone = "Asia/Kolkata"

const queryPath = "/api/v1/metrics/query"

func loadZone(t *testing.T) *time.Location {
	t.Helper()
	zone, err := time.LoadLocation(viewerZone)
	if err != nil {
		t.Fatalf("load zone %s: %v", viewerZone, err)
	}
	return zone
}

func assertNoConsoleErrors(t *testing.T, page *browsertest.Page) {
	t.Helper()
	if errs := page.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

func legendCurrent(chart, series string) string {
	return fmt.Sprintf(`[data-chart=%q] .legend-row[data-series=%q] .current`, chart, series)
}

func legendTime(chart, series string) string {
	return fmt.Sprintf(`[data-chart=%q] .legend-row[data-series=%q] .current-time`, chart, series)
}

func hostStatus(host string) string {
	return fmt.Sprintf(`.host-button[data-host=%q] .status`, host)
}

// TestHostLiveness checks the sidebar against the server's liveness rules:
// a host that keeps reporting stays ok, a silent one turns stale after
// HOST_STALE_AFTER and down after HOST_DOWN_AFTER, and a host that reports
// for the first time appears without a reload.
func TestHostLiveness(t *testing.T) {
	s := startRealSite(t)
	s.waitFirstReport(t)
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, "", "")

	page.WaitText(hostStatus(reportingHost), "ok")

	// Record every status a new host shows, then let it report once.
	const newHost = "cache-1"
	browsertest.Eval[bool](page, `(() => {
		window.statusHistory = [];
		new MutationObserver(() => {
			const e = document.querySelector('.host-button[data-host="`+newHost+`"] .status');
			const status = e ? e.textContent : "";
			if (status !== "" && window.statusHistory[window.statusHistory.length - 1] !== status) {
				window.statusHistory.push(status);
			}
		}).observe(document.getElementById("host-list"), {subtree: true, childList: true, characterData: true});
		return true;
	})()`)
	s.post(t, "/api/v1/metrics", model.MetricBatch{Host: newHost, Metrics: []model.Metric{
		{Time: time.Now().UTC(), Name: model.MemUsedPct, Value: 12.5},
	}})

	// api-2 sent its history once and declared no interval. web-1 declared
	// a 30 s interval, so it is ok for 60 s after its batches.
	page.WaitText(hostStatus(apiHost.name), "down")
	page.WaitText(hostStatus(webHost.name), "ok")
	if got := page.Text(fmt.Sprintf(`.host-button[data-host=%q] .last-seen`, apiHost.name)); !regexp.MustCompile(`^last seen \d+s ago$`).MatchString(got) {
		t.Errorf("silent host shows %q, want last seen Ns ago", got)
	}

	page.WaitVisible(fmt.Sprintf(`.host-button[data-host=%q]`, newHost))
	page.WaitText(hostStatus(newHost), "down")
	if got := browsertest.Eval[[]string](page, `window.statusHistory`); !slices.Equal(got, []string{"ok", "stale", "down"}) {
		t.Errorf("new host went through statuses %v, want ok, stale, down", got)
	}

	// Down hosts first, then ok ones, each by name; the reporting host is
	// still ok after the others went down.
	want := []string{apiHost.name, newHost, reportingHost, webHost.name}
	if got := page.Texts(".host-button .host-name"); !slices.Equal(got, want) {
		t.Errorf("sidebar order %v, want %v", got, want)
	}
	if got := page.Text(hostStatus(reportingHost)); got != "ok" {
		t.Errorf("reporting host shows %q, want ok", got)
	}
	if got := page.Text("#host-count"); got != "4" {
		t.Errorf("host count %q, want 4", got)
	}

	page.Click(fmt.Sprintf(`.host-button[data-host=%q]`, newHost))
	page.WaitText("#host-title", newHost)
	page.WaitText("#host-status", "down")
	assertNoConsoleErrors(t, page)
}

// TestSidebarStatusBadges runs against the fake API, because the real
// server shows "unknown" only for hosts stored by an earlier server
// process, and only until one down period has passed, so it cannot show
// all four statuses at once.
func TestSidebarStatusBadges(t *testing.T) {
	now := time.Now()
	hosts := []browsertest.Host{
		{Name: "web-1", Status: "ok", LastSeen: now.Add(-3 * time.Second)},
		{Name: "db-1", Status: "stale", LastSeen: now.Add(-35 * time.Second)},
		{Name: "cache-1", Status: "down", LastSeen: now.Add(-10 * time.Minute)},
		{Name: "alpha-0", Status: "down", LastSeen: now.Add(-2 * time.Hour)},
		{Name: "batch-9", Status: "unknown"},
	}
	url := startFakeSite(t, browsertest.Dataset{Hosts: hosts})
	page := sharedBrowser(t).NewPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(url + "/?refresh=" + refreshSeconds)

	want := browsertest.SortedHostNames(hosts)
	page.WaitFor(fmt.Sprintf(`document.querySelectorAll(".host-button").length === %d`, len(want)), "every host in the sidebar")
	if got := page.Texts(".host-button .host-name"); !slices.Equal(got, want) {
		t.Errorf("sidebar order %v, want %v", got, want)
	}
	for _, h := range hosts {
		if got := page.Text(hostStatus(h.Name)); got != h.Status {
			t.Errorf("host %s shows status %q, want %q", h.Name, got, h.Status)
		}
		className := browsertest.Eval[string](page, fmt.Sprintf(`document.querySelector(%q).className`, hostStatus(h.Name)))
		if !strings.Contains(className, "status-"+h.Status) {
			t.Errorf("host %s status badge has classes %q, want status-%s", h.Name, className, h.Status)
		}
	}
	if got := page.Text(`.host-button[data-host="batch-9"] .last-seen`); got != "never seen" {
		t.Errorf("never-seen host shows %q", got)
	}
	if got := page.Text(`.host-button[data-host="cache-1"] .last-seen`); got != "last seen 10m ago" {
		t.Errorf("down host shows %q, want last seen 10m ago", got)
	}

	colours := browsertest.Eval[[]string](page, `["ok", "stale", "down", "unknown"].map((s) =>
		getComputedStyle(document.querySelector(".host-item[data-status=" + s + "] .status")).backgroundColor)`)
	if len(slices.Compact(slices.Sorted(slices.Values(colours)))) != 4 {
		t.Errorf("status badge colours %v are not four different colours", colours)
	}
	assertNoConsoleErrors(t, page)
}

func TestChartCurrentValues(t *testing.T) {
	s := startRealSite(t)
	fx := s.fixture
	zone := loadZone(t)
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop, TimeZone: viewerZone}, "", "")
	since := s.intercept.Count()
	page.Navigate(s.dashboardURL(webHost.name, "1h"))

	// web-1 declares its interval: net rate = average per-tick delta
	// (summed over interfaces) ÷ interval.
	host := webHost.name
	interval := webHost.interval.Seconds()
	netIn := fx.total(host, model.NetBytesIn, anyLabels) / float64(fx.ticks(host, model.NetBytesIn))
	netOut := fx.total(host, model.NetBytesOut, anyLabels) / float64(fx.ticks(host, model.NetBytesOut))
	want := map[string]string{
		legendCurrent("cpu", "usage"):       browsertest.FormatPercent(fx.mean(host, model.CPUUsagePct, label("core", "total"))),
		legendCurrent("mem-pct", "used"):    browsertest.FormatPercent(fx.mean(host, model.MemUsedPct, anyLabels)),
		legendCurrent("mem-bytes", "used"):  browsertest.FormatBytes(fx.mean(host, model.MemUsedBytes, anyLabels)),
		legendCurrent("mem-bytes", "total"): browsertest.FormatBytes(fx.mean(host, model.MemTotalBytes, anyLabels)),
		legendCurrent("disk-pct", "used"):   browsertest.FormatPercent(fx.mean(host, model.DiskUsedPct, label("mount", "/"))),
		legendCurrent("disk-bytes", "used"): browsertest.FormatBytes(fx.mean(host, model.DiskUsedBytes, label("mount", "/"))),
		legendCurrent("net", "in"):          browsertest.FormatRate(netIn / interval),
		legendCurrent("net", "out"):         browsertest.FormatRate(netOut / interval),
		legendTime("cpu", "usage"):          browsertest.FormatDateTime(fx.newestBucket, zone),
	}
	for selector, text := range want {
		page.WaitText(selector, text)
	}
	s.intercept.WaitRequest(t, since, "net.bytes_in with agg=avg", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"host": host, "name": model.NetBytesIn, "agg": "avg", "bucket": "1m"})
	})

	// The keyboard moves the chart cursor; End goes to the newest point.
	page.Focus(`[data-chart="cpu"] .chart-plot`)
	page.Keys(kb.End)
	wantReadout := browsertest.FormatDateTime(fx.newestBucket, zone) + " · usage " + want[legendCurrent("cpu", "usage")]
	page.WaitText(`[data-chart="cpu"] .chart-readout`, wantReadout)
	page.Keys(kb.ArrowLeft)
	earlier := browsertest.FormatDateTime(fx.newestBucket.Add(-time.Minute), zone)
	page.WaitFor(fmt.Sprintf(`document.querySelector('[data-chart="cpu"] .chart-readout').textContent.startsWith(%q)`, earlier+" · usage "), "readout of the previous bucket")

	// The mouse shows the same readout.
	page.Hover(`[data-chart="mem-pct"] .chart-plot`)
	page.WaitFor(`/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · used (\d+\.\d%|–)$/.test(document.querySelector('[data-chart="mem-pct"] .chart-readout').textContent)`, "hover readout of the memory chart")
	assertNoConsoleErrors(t, page)
}

func TestChartRateWithoutInterval(t *testing.T) {
	s := startRealSite(t)
	fx := s.fixture
	host := apiHost.name
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, "", "")
	since := s.intercept.Count()
	page.Navigate(s.dashboardURL(host, "1h"))

	// api-2 declares no interval: net rate = sum of deltas ÷ 60 s bucket.
	bucketSeconds := time.Minute.Seconds()
	page.WaitText(legendCurrent("net", "in"), browsertest.FormatRate(fx.total(host, model.NetBytesIn, anyLabels)/bucketSeconds))
	page.WaitText(legendCurrent("net", "out"), browsertest.FormatRate(fx.total(host, model.NetBytesOut, anyLabels)/bucketSeconds))
	s.intercept.WaitRequest(t, since, "net.bytes_out with agg=sum", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"host": host, "name": model.NetBytesOut, "agg": "sum"})
	})

	// api-2 has no "/" mount, so the disk charts show each mount instead.
	page.WaitText(legendCurrent("disk-pct", "/data"), browsertest.FormatPercent(fx.mean(host, model.DiskUsedPct, label("mount", "/data"))))
	if got := browsertest.Eval[string](page, `document.querySelector('[data-chart="disk-pct"] select').value`); got != "group" {
		t.Errorf("disk breakdown is %q, want group (per mount)", got)
	}
	assertNoConsoleErrors(t, page)
}

func TestBreakdownPerCore(t *testing.T) {
	s := startRealSite(t)
	fx := s.fixture
	host := webHost.name
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, host, "1h")
	page.WaitVisible(legendCurrent("cpu", "usage"))

	since := s.intercept.Count()
	page.SetValue(`[data-chart="cpu"] select`, "group")
	s.intercept.WaitRequest(t, since, "cpu.usage_pct grouped by core", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"host": host, "name": model.CPUUsagePct, "group_by": "core"})
	})
	for _, core := range []string{"total", "0", "1"} {
		series := "core " + core
		if core == "total" {
			series = "total"
		}
		page.WaitText(legendCurrent("cpu", series), browsertest.FormatPercent(fx.mean(host, model.CPUUsagePct, label("core", core))))
	}
	if got := page.Texts(`[data-chart="cpu"] .legend-row th`); !slices.Equal(got, []string{"total", "core 0", "core 1"}) {
		t.Errorf("per-core legend %v, want total, core 0, core 1", got)
	}

	// One interface, through a label filter.
	since = s.intercept.Count()
	page.SetValue(`[data-chart="net"] select`, "=eth1")
	s.intercept.WaitRequest(t, since, "net.bytes_in of eth1", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"name": model.NetBytesIn, "label.iface": "eth1"})
	})
	eth1In := fx.mean(host, model.NetBytesIn, label("iface", "eth1")) / webHost.interval.Seconds()
	page.WaitText(legendCurrent("net", "eth1 in"), browsertest.FormatRate(eth1In))

	// One mount of the disk chart.
	page.SetValue(`[data-chart="disk-pct"] select`, "=/data")
	page.WaitText(legendCurrent("disk-pct", "/data"), browsertest.FormatPercent(fx.mean(host, model.DiskUsedPct, label("mount", "/data"))))
	assertNoConsoleErrors(t, page)
}

func TestRangePickerBuckets(t *testing.T) {
	s := startRealSite(t)
	fx := s.fixture
	host := webHost.name
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, host, "1h")
	page.WaitVisible(legendCurrent("cpu", "usage"))

	ranges := []struct {
		id     string
		span   time.Duration
		bucket string
	}{
		{"15m", 15 * time.Minute, "1m"},
		{"6h", 6 * time.Hour, "5m"},
		{"24h", 24 * time.Hour, "5m"},
		{"7d", 7 * 24 * time.Hour, "15m"},
		{"30d", 30 * 24 * time.Hour, "1h"},
		{"1h", time.Hour, "1m"},
	}
	for _, r := range ranges {
		bucket := browsertest.Buckets[r.bucket]
		if points := int(r.span / bucket); points > 1500 {
			t.Errorf("range %s with %s buckets has %d points, over 1500", r.id, r.bucket, points)
		}

		since := s.intercept.Count()
		page.Click(fmt.Sprintf(`.range-button[data-range=%q]`, r.id))
		req := s.intercept.WaitRequest(t, since, "cpu query of range "+r.id, func(q browsertest.Request) bool {
			return browsertest.IsQuery(q, queryPath, map[string]string{"name": model.CPUUsagePct, "bucket": r.bucket})
		})

		from, errFrom := time.Parse(time.RFC3339, req.Query.Get("from"))
		to, errTo := time.Parse(time.RFC3339, req.Query.Get("to"))
		if errFrom != nil || errTo != nil {
			t.Fatalf("range %s: from %q, to %q: %v %v", r.id, req.Query.Get("from"), req.Query.Get("to"), errFrom, errTo)
		}
		if span := to.Sub(from); span > r.span || span <= r.span-bucket {
			t.Errorf("range %s asks for %s, want (%s, %s]", r.id, span, r.span-bucket, r.span)
		}
		if !from.Equal(browsertest.BucketStart(from, bucket)) {
			t.Errorf("range %s starts at %s, not at a %s bucket boundary", r.id, from, r.bucket)
		}
		if got := page.Text(`.range-button[aria-pressed="true"]`); got != r.id {
			t.Errorf("after choosing %s the pressed button is %q", r.id, got)
		}

		// The server's response: the newest bucket of this length averages
		// the samples in it (the 30d range reads the hourly rollup).
		wantCPU := browsertest.FormatPercent(fx.meanIn(host, model.CPUUsagePct, label("core", "total"), bucket))
		page.WaitText(legendCurrent("cpu", "usage"), wantCPU)
		wantDisk := browsertest.FormatBytes(fx.meanIn(host, model.DiskUsedBytes, label("mount", "/"), bucket))
		page.WaitText(legendCurrent("disk-bytes", "used"), wantDisk)
	}
	assertNoConsoleErrors(t, page)
}

// logMessages returns the message column of the log table, top to bottom.
func logMessages(page *browsertest.Page) []string {
	return page.Texts("#log-entries tr .log-message")
}

func assertLogRows(t *testing.T, page *browsertest.Page, want []string) {
	t.Helper()
	page.WaitFor(fmt.Sprintf(`document.querySelectorAll("#log-entries tr").length === %d`, len(want)), fmt.Sprintf("%d log rows", len(want)))
	if got := logMessages(page); !slices.Equal(got, want) {
		t.Errorf("log rows\n%q\nwant\n%q", got, want)
	}
}

func TestLogSearchAndPaging(t *testing.T) {
	s := startRealSite(t)
	fx := s.fixture
	host := webHost.name
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, host, "1h")

	all := fx.filterLogs(host, "", "")
	assertLogRows(t, page, all[:50])

	since := s.intercept.Count()
	page.Click("#log-more")
	s.intercept.WaitRequest(t, since, "the second log page", func(r browsertest.Request) bool {
		return r.Path == "/api/v1/logs/query" && r.Query.Get("cursor") != ""
	})
	assertLogRows(t, page, all)
	page.WaitHidden("#log-more")

	since = s.intercept.Count()
	page.Type("#log-search", "disk")
	s.intercept.WaitRequest(t, since, "a log search for disk", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, "/api/v1/logs/query", map[string]string{"host": host, "q": "disk"})
	})
	assertLogRows(t, page, fx.filterLogs(host, "", "disk"))

	since = s.intercept.Count()
	page.SetValue("#log-level", "error")
	s.intercept.WaitRequest(t, since, "a log search for disk errors", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, "/api/v1/logs/query", map[string]string{"q": "disk", "level": "error"})
	})
	errorMatches := fx.filterLogs(host, "error", "disk")
	assertLogRows(t, page, errorMatches)
	if got := page.Texts("#log-entries tr .log-level"); !slices.Equal(got, slices.Repeat([]string{"error"}, len(errorMatches))) {
		t.Errorf("levels of the error entries %v, want error only", got)
	}

	page.SetValue("#log-search", "no such text")
	page.WaitText("#log-status", "No log entry matches these filters.")
	assertLogRows(t, page, nil)
	assertNoConsoleErrors(t, page)
}

func TestAlertAppears(t *testing.T) {
	s := startRealSite(t)
	s.waitFirstReport(t)
	zone := loadZone(t)
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop, TimeZone: viewerZone}, "", "")

	// The reporting host keeps cpu-high firing and mem-high pending.
	page.WaitFor(`document.querySelectorAll(".alert-item").length === 2 && document.querySelectorAll('.alert-item[data-state="firing"]').length === 1`,
		"cpu-high firing and mem-high pending")
	page.WaitText("#alert-count", "2")
	firing := page.Text(`.alert-item[data-state="firing"]`)
	for _, want := range []string{"cpu.usage_pct {core=total}", reportingHost, "value " + browsertest.FormatPercent(reportedCPU) + " > 90.0% for 1s"} {
		if !strings.Contains(firing, want) {
			t.Errorf("firing alert reads %q, lacks %q", firing, want)
		}
	}
	assertSinceBetween(t, page, `.alert-item[data-state="firing"] .alert-since time`, s.started, zone)
	pending := page.Text(`.alert-item[data-state="pending"]`)
	if want := "value " + browsertest.FormatPercent(reportedMem) + " > 60.0% for 1h"; !strings.Contains(pending, "mem.used_pct") || !strings.Contains(pending, want) {
		t.Errorf("pending alert reads %q, want mem.used_pct with %q", pending, want)
	}

	// disk-full fires once the reporting host sends a value over 90%.
	s.diskHigh.Store(true)
	page.WaitText("#alert-count", "3")
	if got := page.Texts(".alert-item .alert-state"); !slices.Equal(got, []string{"firing", "firing", "pending"}) {
		t.Errorf("alert states %v, want firing, firing, pending", got)
	}
	disk := ""
	for _, text := range page.Texts(".alert-item") {
		if strings.Contains(text, model.DiskUsedPct) {
			disk = text
		}
	}
	for _, want := range []string{"disk.used_pct {mount=/data}", reportingHost, "value " + browsertest.FormatPercent(reportedDiskHigh) + " > 90.0% for 0s"} {
		if !strings.Contains(disk, want) {
			t.Errorf("disk alert reads %q, lacks %q", disk, want)
		}
	}

	// The host in an alert opens that host.
	page.Click(`.alert-item[data-state="firing"] .link-button`)
	page.WaitText("#host-title", reportingHost)
	assertNoConsoleErrors(t, page)
}

// assertSinceBetween checks that the time in selector, written in zone, is
// between from (rounded down to the second) and now.
func assertSinceBetween(t *testing.T, page *browsertest.Page, selector string, from time.Time, zone *time.Location) {
	t.Helper()
	text := page.Text(selector)
	since, err := time.ParseInLocation(time.DateTime, text, zone)
	if err != nil {
		t.Fatalf("alert since %q is not a %s time: %v", text, viewerZone, err)
	}
	if since.Before(from.Truncate(time.Second)) || since.After(time.Now()) {
		t.Errorf("alert since %s, want between %s and now", since, from)
	}
}

func TestStaleBannerAndRecovery(t *testing.T) {
	s := startRealSite(t)
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, webHost.name, "1h")
	page.WaitVisible(legendCurrent("cpu", "usage"))
	page.WaitFor(`document.getElementById("updated").textContent.startsWith("Updated ")`, "a successful refresh")

	// The real server cannot be made to fail on cue, so the Interceptor
	// responds in its place.
	failedFrom := s.intercept.Count()
	s.intercept.FailAPI(http.StatusServiceUnavailable)
	t.Cleanup(func() { s.intercept.FailAPI(0) })
	page.WaitVisible("#stale-banner")

	updated := strings.TrimPrefix(page.Text("#updated"), "Updated ")
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d$`).MatchString(updated) {
		t.Fatalf("last update reads %q", updated)
	}
	if got := page.Text("#stale-since"); got != "Stale since "+updated+"." {
		t.Errorf("banner reads %q, want Stale since %s.", got, updated)
	}
	if got := page.TextOrEmpty(legendCurrent("cpu", "usage")); got == "" || got == "–" {
		t.Errorf("the last values are gone while stale: cpu shows %q", got)
	}

	// The page keeps asking while the API fails.
	s.intercept.WaitRequests(t, failedFrom, 3, "retries of the host list", func(r browsertest.Request) bool {
		return r.Path == "/api/v1/hosts" && r.Status == http.StatusServiceUnavailable
	})

	s.intercept.FailAPI(0)
	page.WaitHidden("#stale-banner")
	page.WaitFor(fmt.Sprintf(`document.getElementById("updated").textContent !== %q`, "Updated "+updated), "a newer update time")
}

func TestKeyboardSelectsHost(t *testing.T) {
	s := startRealSite(t)
	s.waitFirstReport(t)
	page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, "", "")

	// api-2 comes first whatever its status: it is first by name, and down
	// and stale sort before ok.
	first := apiHost.name
	page.WaitFor(`document.querySelectorAll(".host-button").length === 3`, "the three hosts")
	if got := page.Text(".host-button .host-name"); got != first {
		t.Fatalf("first host %q, want %q", got, first)
	}

	page.Keys(kb.Tab)
	if got := browsertest.Eval[string](page, `document.activeElement.textContent`); got != "Skip to main content" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}
	page.Keys(kb.Tab)
	if got := browsertest.Eval[string](page, `document.activeElement.dataset.host || ""`); got != first {
		t.Fatalf("second Tab focuses host %q, want %q", got, first)
	}
	outline := browsertest.Eval[string](page, `document.activeElement.matches(":focus-visible") ? getComputedStyle(document.activeElement).outlineStyle : "not focus-visible"`)
	if outline != "solid" {
		t.Errorf("focused host button outline is %q, want a solid focus ring", outline)
	}

	page.Keys(kb.Enter)
	page.WaitText("#host-title", first)
	if got := browsertest.Eval[string](page, `document.activeElement.getAttribute("aria-current") || ""`); got != "page" {
		t.Errorf("the chosen host button has aria-current %q, want page (and keeps focus)", got)
	}
	page.Keys(kb.Tab)
	if got := browsertest.Eval[string](page, `document.activeElement.dataset.host || ""`); got == first || got == "" {
		t.Errorf("Tab after choosing a host focuses %q, want the next host", got)
	}
}

func TestResponsiveLayouts(t *testing.T) {
	s := startRealSite(t)
	for _, v := range []struct {
		name     string
		viewport browsertest.Viewport
	}{
		{"desktop", browsertest.Desktop},
		{"phone", browsertest.Phone},
	} {
		t.Run(v.name, func(t *testing.T) {
			page := s.open(t, browsertest.PageOptions{Viewport: v.viewport}, webHost.name, "1h")
			page.WaitVisible(legendCurrent("net", "in"))
			page.WaitFor(`document.querySelectorAll("#log-entries tr").length > 0`, "log entries")

			overflow := browsertest.Eval[int](page, `document.documentElement.scrollWidth - window.innerWidth`)
			if overflow > 0 {
				t.Errorf("page is %d px wider than the %d px viewport", overflow, v.viewport.Width)
			}
			narrowest := browsertest.Eval[int](page, `Math.min(...[...document.querySelectorAll(".chart-plot canvas")].map((c) => c.getBoundingClientRect().width))`)
			if narrowest < 250 {
				t.Errorf("narrowest chart is %d px wide", narrowest)
			}
			sidebarBeside := browsertest.Eval[bool](page, `document.querySelector(".sidebar").getBoundingClientRect().right <= document.querySelector("main").getBoundingClientRect().left`)
			if want := v.name == "desktop"; sidebarBeside != want {
				t.Errorf("sidebar beside main: %v, want %v", sidebarBeside, want)
			}
			t.Logf("screenshots: %s, %s", page.Screenshot(v.name), page.ScreenshotViewport(v.name+"-viewport"))
			assertNoConsoleErrors(t, page)
		})
	}
}
