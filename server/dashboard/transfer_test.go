package dashboard_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
)

// transferEntry is one resource of the Performance API (navigation or
// resource timing): its sizes in bytes as the browser received them.
type transferEntry struct {
	Name     string  `json:"name"`
	Transfer float64 `json:"transfer"`
	Encoded  float64 `json:"encoded"`
	Decoded  float64 `json:"decoded"`
}

// resourceName shortens a resource URL to its path and, for the API, the
// metric in its query.
func resourceName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if name := u.Query().Get("name"); name != "" {
		return u.Path + " " + name
	}
	return u.Path
}

// firstLoadBudget is the most the page itself (index.html, script and
// stylesheet) may transfer compressed, the budget of TestPageWeight.
const firstLoadBudget = 64 * 1024

// TestFirstLoadTransfer opens a host view with an empty cache on the real
// server, waits for its first refresh cycle, and adds up what the browser
// received: the page's own files, which must arrive compressed and within
// the budget, and the JSON of the API calls, which the test logs.
func TestFirstLoadTransfer(t *testing.T) {
	s := startRealSite(t)
	page := sharedBrowser(t).NewPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	s.signIn(t, page)
	page.DisableCache()

	// A refresh period of an hour leaves the first cycle as the only one.
	page.Navigate(s.url + "/?refresh=3600#host=" + webHost.name + "&range=1h")
	page.WaitVisible(legendCurrent("net", "out"))
	page.WaitFor(`document.querySelectorAll("#log-entries tr").length === 50`, "the first page of log entries")
	page.WaitFor(`document.getElementById("updated").textContent.startsWith("Updated ")`, "the end of the first refresh cycle")

	entries := browsertest.Eval[[]transferEntry](page, `[...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
		.map((e) => ({name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}))`)

	var pageBytes, pageRaw, apiBytes, apiRaw float64
	var pageFiles, apiCalls int
	for _, e := range entries {
		switch {
		case strings.Contains(e.Name, "/api/"):
			apiCalls++
			apiBytes += e.Encoded
			apiRaw += e.Decoded
		case strings.HasPrefix(e.Name, s.url+"/"):
			pageFiles++
			pageBytes += e.Encoded
			pageRaw += e.Decoded
			if e.Transfer == 0 {
				t.Errorf("%s came from the cache; the test must measure a first visit", e.Name)
			}
			if e.Encoded >= e.Decoded {
				t.Errorf("%s arrived uncompressed: %.0f bytes on the wire for %.0f bytes", e.Name, e.Encoded, e.Decoded)
			}
		}
		t.Logf("%-40s %7.0f bytes on the wire, %7.0f decoded", resourceName(e.Name), e.Encoded, e.Decoded)
	}

	if pageFiles != 3 {
		t.Errorf("the page loaded %d files of its own, want 3 (index.html, script, stylesheet)", pageFiles)
	}
	if pageBytes > firstLoadBudget {
		t.Errorf("the page's own files are %.0f bytes compressed, over the %d-byte budget", pageBytes, firstLoadBudget)
	}
	t.Logf("first load of a 1h host view: page %.0f bytes (%.0f decoded, %d files), API %.0f bytes (%.0f decoded, %d calls)",
		pageBytes, pageRaw, pageFiles, apiBytes, apiRaw, apiCalls)
}
