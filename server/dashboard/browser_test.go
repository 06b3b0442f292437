package dashboard_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
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

func openPage(t *testing.T, opts browsertest.PageOptions) *browsertest.Page {
	t.Helper()
	return sharedBrowser(t).NewPage(t, opts)
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

func TestSidebarOrderAndStatus(t *testing.T) {
	s := startSite(t)
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("", ""))

	hosts := s.fixture.data.Hosts
	want := browsertest.SortedHostNames(hosts)
	page.WaitFor(fmt.Sprintf(`document.querySelectorAll(".host-button").length === %d`, len(want)), "every host in the sidebar")

	if got := page.Texts(".host-button .host-name"); !slices.Equal(got, want) {
		t.Errorf("sidebar order %v, want %v", got, want)
	}
	for _, h := range hosts {
		selector := fmt.Sprintf(`.host-button[data-host=%q] .status`, h.Name)
		if got := page.Text(selector); got != h.Status {
			t.Errorf("host %s shows status %q, want %q", h.Name, got, h.Status)
		}
		className := browsertest.Eval[string](page, fmt.Sprintf(`document.querySelector(%q).className`, selector))
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

	// A host that reports for the first time appears without a reload.
	s.fake.SetHosts(append(hosts, browsertest.Host{Name: "new-7", Status: "ok", LastSeen: time.Now()}))
	page.WaitVisible(`.host-button[data-host="new-7"]`)
	wantAfter := browsertest.SortedHostNames(append(hosts, browsertest.Host{Name: "new-7", Status: "ok"}))
	if got := page.Texts(".host-button .host-name"); !slices.Equal(got, wantAfter) {
		t.Errorf("sidebar order after a new host %v, want %v", got, wantAfter)
	}
	assertNoConsoleErrors(t, page)
}

func TestChartCurrentValues(t *testing.T) {
	s := startSite(t)
	fx := s.fixture
	zone, err := time.LoadLocation(viewerZone)
	if err != nil {
		t.Fatalf("load zone %s: %v", viewerZone, err)
	}
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop, TimeZone: viewerZone})
	since := s.intercept.Count()
	page.Navigate(s.dashboardURL("web-1", "1h"))

	// web-1 reports its 10 s interval: net rate = average per-tick delta
	// (summed over interfaces) ÷ 10 s.
	netIn := fx.total("web-1", model.NetBytesIn, anyLabels) / float64(fx.ticks("web-1", model.NetBytesIn))
	netOut := fx.total("web-1", model.NetBytesOut, anyLabels) / float64(fx.ticks("web-1", model.NetBytesOut))
	want := map[string]string{
		legendCurrent("cpu", "usage"):       browsertest.FormatPercent(fx.mean("web-1", model.CPUUsagePct, label("core", "total"))),
		legendCurrent("mem-pct", "used"):    browsertest.FormatPercent(fx.mean("web-1", model.MemUsedPct, anyLabels)),
		legendCurrent("mem-bytes", "used"):  browsertest.FormatBytes(fx.mean("web-1", model.MemUsedBytes, anyLabels)),
		legendCurrent("mem-bytes", "total"): browsertest.FormatBytes(fx.mean("web-1", model.MemTotalBytes, anyLabels)),
		legendCurrent("disk-pct", "used"):   browsertest.FormatPercent(fx.mean("web-1", model.DiskUsedPct, label("mount", "/"))),
		legendCurrent("disk-bytes", "used"): browsertest.FormatBytes(fx.mean("web-1", model.DiskUsedBytes, label("mount", "/"))),
		legendCurrent("net", "in"):          browsertest.FormatRate(netIn / sampleInterval.Seconds()),
		legendCurrent("net", "out"):         browsertest.FormatRate(netOut / sampleInterval.Seconds()),
		legendTime("cpu", "usage"):          browsertest.FormatDateTime(fx.newestBucket, zone),
	}
	for selector, text := range want {
		page.WaitText(selector, text)
	}
	s.intercept.WaitRequest(t, since, "net.bytes_in with agg=avg", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"host": "web-1", "name": model.NetBytesIn, "agg": "avg", "bucket": "1m"})
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
	s := startSite(t)
	fx := s.fixture
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	since := s.intercept.Count()
	page.Navigate(s.dashboardURL("api-2", "1h"))

	// api-2 reports no interval: net rate = sum of deltas ÷ 60 s bucket.
	bucketSeconds := time.Minute.Seconds()
	page.WaitText(legendCurrent("net", "in"), browsertest.FormatRate(fx.total("api-2", model.NetBytesIn, anyLabels)/bucketSeconds))
	page.WaitText(legendCurrent("net", "out"), browsertest.FormatRate(fx.total("api-2", model.NetBytesOut, anyLabels)/bucketSeconds))
	s.intercept.WaitRequest(t, since, "net.bytes_out with agg=sum", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"host": "api-2", "name": model.NetBytesOut, "agg": "sum"})
	})

	// api-2 has no "/" mount, so the disk charts show each mount instead.
	page.WaitText(legendCurrent("disk-pct", "/data"), browsertest.FormatPercent(fx.mean("api-2", model.DiskUsedPct, label("mount", "/data"))))
	if got := browsertest.Eval[string](page, `document.querySelector('[data-chart="disk-pct"] select').value`); got != "group" {
		t.Errorf("disk breakdown is %q, want group (per mount)", got)
	}
	assertNoConsoleErrors(t, page)
}

func TestBreakdownPerCore(t *testing.T) {
	s := startSite(t)
	fx := s.fixture
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("web-1", "1h"))
	page.WaitVisible(legendCurrent("cpu", "usage"))

	since := s.intercept.Count()
	page.SetValue(`[data-chart="cpu"] select`, "group")
	s.intercept.WaitRequest(t, since, "cpu.usage_pct grouped by core", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, queryPath, map[string]string{"host": "web-1", "name": model.CPUUsagePct, "group_by": "core"})
	})
	for _, core := range []string{"total", "0", "1"} {
		series := "core " + core
		if core == "total" {
			series = "total"
		}
		page.WaitText(legendCurrent("cpu", series), browsertest.FormatPercent(fx.mean("web-1", model.CPUUsagePct, label("core", core))))
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
	eth1In := fx.mean("web-1", model.NetBytesIn, label("iface", "eth1")) / sampleInterval.Seconds()
	page.WaitText(legendCurrent("net", "eth1 in"), browsertest.FormatRate(eth1In))
	assertNoConsoleErrors(t, page)
}

func TestRangePickerBuckets(t *testing.T) {
	s := startSite(t)
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("web-1", "1h"))
	page.WaitVisible(legendCurrent("cpu", "usage"))

	ranges := []struct {
		id     string
		span   time.Duration
		bucket string
	}{
		{"15m", 15 * time.Minute, "1m"},
		{"1h", time.Hour, "1m"},
		{"6h", 6 * time.Hour, "5m"},
		{"24h", 24 * time.Hour, "5m"},
		{"7d", 7 * 24 * time.Hour, "15m"},
		{"30d", 30 * 24 * time.Hour, "1h"},
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
	}
	assertNoConsoleErrors(t, page)
}

func TestLogSearchAndPaging(t *testing.T) {
	s := startSite(t)
	logs := s.fixture.data.Logs
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("web-1", "1h"))

	all := browsertest.FilterLogs(logs, "web-1", "", "", time.Time{})
	page.WaitFor(`document.querySelectorAll("#log-entries tr").length === 50`, "the first page of 50 log entries")
	assertLogIDs(t, page, all[:50])
	if got := page.Text(`#log-entries tr:first-child .log-message`); got != all[0].Message {
		t.Errorf("newest entry shows %q, want %q", got, all[0].Message)
	}

	since := s.intercept.Count()
	page.Click("#log-more")
	s.intercept.WaitRequest(t, since, "the second log page", func(r browsertest.Request) bool {
		return r.Path == "/api/v1/logs/query" && r.Query.Get("cursor") != ""
	})
	page.WaitFor(fmt.Sprintf(`document.querySelectorAll("#log-entries tr").length === %d`, len(all)), "both log pages")
	assertLogIDs(t, page, all)
	page.WaitHidden("#log-more")

	since = s.intercept.Count()
	page.Type("#log-search", "disk")
	s.intercept.WaitRequest(t, since, "a log search for disk", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, "/api/v1/logs/query", map[string]string{"host": "web-1", "q": "disk"})
	})
	matches := browsertest.FilterLogs(logs, "web-1", "", "disk", time.Time{})
	page.WaitFor(fmt.Sprintf(`document.querySelectorAll("#log-entries tr").length === %d`, len(matches)), "the disk entries")
	assertLogIDs(t, page, matches)

	since = s.intercept.Count()
	page.SetValue("#log-level", "error")
	s.intercept.WaitRequest(t, since, "a log search for disk errors", func(r browsertest.Request) bool {
		return browsertest.IsQuery(r, "/api/v1/logs/query", map[string]string{"q": "disk", "level": "error"})
	})
	errorMatches := browsertest.FilterLogs(logs, "web-1", "error", "disk", time.Time{})
	page.WaitFor(fmt.Sprintf(`document.querySelectorAll("#log-entries tr").length === %d`, len(errorMatches)), "the disk error entries")
	assertLogIDs(t, page, errorMatches)
	assertNoConsoleErrors(t, page)
}

func assertLogIDs(t *testing.T, page *browsertest.Page, want []browsertest.LogEntry) {
	t.Helper()
	got := browsertest.Eval[[]string](page, `[...document.querySelectorAll("#log-entries tr")].map((r) => r.dataset.id)`)
	wantIDs := make([]string, len(want))
	for i, e := range want {
		wantIDs[i] = strconv.FormatInt(e.ID, 10)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("log rows %v, want %v", got, wantIDs)
	}
}

func TestAlertAppears(t *testing.T) {
	s := startSite(t)
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop, TimeZone: viewerZone})
	page.Navigate(s.dashboardURL("", ""))
	page.WaitText(".alert-empty", "No alert is firing or pending.")

	since := time.Now().Add(-7 * time.Minute).Truncate(time.Second)
	s.fake.SetAlerts([]browsertest.Alert{
		{
			ID: "disk-full/web-1//data", Rule: browsertest.AlertRule{ID: "disk-full", Host: "*", Name: model.DiskUsedPct, Op: ">", Threshold: 90, For: "5m"},
			Host: "web-1", Name: model.DiskUsedPct, Labels: map[string]string{"mount": "/data"}, State: "pending", Value: 91.37, Threshold: 90, Since: since, For: "5m",
		},
		{
			ID: "cpu-high/web-1", Rule: browsertest.AlertRule{ID: "cpu-high", Host: "*", Name: model.CPUUsagePct, Op: ">", Threshold: 90, For: "1m"},
			Host: "web-1", Name: model.CPUUsagePct, Labels: map[string]string{"core": "total"}, State: "firing", Value: 95.24, Threshold: 90, Since: since, For: "1m",
		},
		{
			ID: "cpu-high/db-1", Rule: browsertest.AlertRule{ID: "cpu-high"},
			Host: "db-1", Name: model.CPUUsagePct, State: "ok", Value: 12, Threshold: 90, Since: since, For: "1m",
		},
	})

	page.WaitFor(`document.querySelectorAll(".alert-item").length === 2`, "the firing and the pending alert")
	page.WaitText("#alert-count", "2")
	if got := page.Texts(".alert-item .alert-state"); !slices.Equal(got, []string{"firing", "pending"}) {
		t.Errorf("alert states %v, want firing then pending", got)
	}
	zone, _ := time.LoadLocation(viewerZone)
	firing := page.Text(`.alert-item[data-state="firing"]`)
	for _, want := range []string{"cpu.usage_pct {core=total}", "web-1", "value 95.2% > 90.0% for 1m", "since " + browsertest.FormatDateTime(since, zone)} {
		if !strings.Contains(firing, want) {
			t.Errorf("firing alert reads %q, lacks %q", firing, want)
		}
	}

	// The host in an alert opens that host.
	page.Click(`.alert-item[data-state="firing"] .link-button`)
	page.WaitText("#host-title", "web-1")
	assertNoConsoleErrors(t, page)
}

func TestUnauthorizedGoesToLogin(t *testing.T) {
	s := startSite(t)
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("web-1", "1h"))
	page.WaitVisible(".host-button")

	s.intercept.FailAPI(http.StatusUnauthorized)
	page.WaitFor(`window.location.pathname === "/login"`, "the sign-in page")
	page.WaitVisible(`form[method="post"][action="/login"] input[name="token"][type="password"]`)
	page.WaitVisible(`form button[type="submit"]`)
}

func TestStaleBannerAndRecovery(t *testing.T) {
	s := startSite(t)
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("web-1", "1h"))
	page.WaitVisible(legendCurrent("cpu", "usage"))
	page.WaitFor(`document.getElementById("updated").textContent.startsWith("Updated ")`, "a successful refresh")

	failedFrom := s.intercept.Count()
	s.intercept.FailAPI(http.StatusServiceUnavailable)
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
	s := startSite(t)
	page := openPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	page.Navigate(s.dashboardURL("", ""))
	first := browsertest.SortedHostNames(s.fixture.data.Hosts)[0]
	page.WaitVisible(fmt.Sprintf(`.host-button[data-host=%q]`, first))

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
	s := startSite(t)
	for _, v := range []struct {
		name     string
		viewport browsertest.Viewport
	}{
		{"desktop", browsertest.Desktop},
		{"phone", browsertest.Phone},
	} {
		t.Run(v.name, func(t *testing.T) {
			page := openPage(t, browsertest.PageOptions{Viewport: v.viewport})
			page.Navigate(s.dashboardURL("web-1", "1h"))
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
