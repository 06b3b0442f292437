package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/kamerrezz/theminidog/server/dashboard"
)

// assetRefs matches the same-origin files index.html loads.
var assetRefs = regexp.MustCompile(`(?:src|href)="(/[^"]*)"`)

func get(t *testing.T, h http.Handler, path string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return body
}

func embeddedFile(t *testing.T, name string) []byte {
	t.Helper()
	body, err := fs.ReadFile(dashboard.Assets(), name)
	if err != nil {
		t.Fatalf("read embedded %s: %v", name, err)
	}
	return body
}

// indexAssets returns the /assets/ paths that index.html refers to.
func indexAssets(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, m := range assetRefs.FindAllSubmatch(embeddedFile(t, "index.html"), -1) {
		paths = append(paths, string(m[1]))
	}
	return paths
}

func TestEmbeddedAssetsComplete(t *testing.T) {
	entries, err := fs.ReadDir(dashboard.Assets(), ".")
	if err != nil {
		t.Fatalf("list assets: %v", err)
	}
	var scripts, styles int
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "app-") && strings.HasSuffix(e.Name(), ".js"):
			scripts++
		case strings.HasPrefix(e.Name(), "app-") && strings.HasSuffix(e.Name(), ".css"):
			styles++
		}
	}
	if scripts != 1 || styles != 1 {
		t.Fatalf("assets hold %d app-*.js and %d app-*.css files, want 1 each: rebuild with npm --prefix web run build", scripts, styles)
	}

	refs := indexAssets(t)
	if len(refs) != 2 {
		t.Fatalf("index.html refers to %v, want the script and the stylesheet", refs)
	}
	for _, ref := range refs {
		name := strings.TrimPrefix(ref, dashboard.AssetPrefix)
		if _, err := fs.Stat(dashboard.Assets(), name); err != nil {
			t.Errorf("index.html refers to %s, which is not embedded: %v", ref, err)
		}
	}
}

func TestHandlerServesIndex(t *testing.T) {
	for _, path := range []string{"/", "/index.html"} {
		resp := get(t, dashboard.Handler(), path, nil)
		body := readBody(t, resp)

		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, got)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, got)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q lacks script-src 'self'", path, got)
		}
		if resp.Header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", path)
		}
		if !bytes.Equal(body, embeddedFile(t, "index.html")) {
			t.Errorf("GET %s: body differs from the embedded index.html", path)
		}
	}
}

func TestHandlerStaticAssetHeaders(t *testing.T) {
	wantTypes := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, ref := range indexAssets(t) {
		resp := get(t, dashboard.Handler(), ref, nil)
		body := readBody(t, resp)

		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", ref, resp.StatusCode)
		}
		ext := ref[strings.LastIndex(ref, "."):]
		if got := resp.Header.Get("Content-Type"); got != wantTypes[ext] {
			t.Errorf("GET %s: Content-Type %q, want %q", ref, got, wantTypes[ext])
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", ref, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q", ref, got)
		}
		if !bytes.Equal(body, embeddedFile(t, strings.TrimPrefix(ref, dashboard.AssetPrefix))) {
			t.Errorf("GET %s: body differs from the embedded file", ref)
		}
	}
}

func TestHandlerETagRevalidation(t *testing.T) {
	first := get(t, dashboard.Handler(), "/", nil)
	etag := first.Header.Get("ETag")

	again := get(t, dashboard.Handler(), "/", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("GET / with If-None-Match %s: status %d, want 304", etag, again.StatusCode)
	}
	if n := len(readBody(t, again)); n != 0 {
		t.Errorf("304 response has a %d-byte body", n)
	}
}

func TestHandlerGzip(t *testing.T) {
	ref := indexAssets(t)[0]
	want := embeddedFile(t, strings.TrimPrefix(ref, dashboard.AssetPrefix))

	resp := get(t, dashboard.Handler(), ref, map[string]string{"Accept-Encoding": "br, gzip"})
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", got)
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(readBody(t, resp)))
	if err != nil {
		t.Fatalf("open gzip body: %v", err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompress body: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decompressed body differs from the embedded file")
	}

	identity := get(t, dashboard.Handler(), ref, map[string]string{"Accept-Encoding": "gzip;q=0"})
	if got := identity.Header.Get("Content-Encoding"); got != "" {
		t.Errorf("with gzip;q=0: Content-Encoding %q, want none", got)
	}
	if identity.Header.Get("ETag") == resp.Header.Get("ETag") {
		t.Errorf("gzip and identity responses share the ETag %s", resp.Header.Get("ETag"))
	}
}

func TestHandlerUnknownPaths(t *testing.T) {
	for _, path := range []string{"/nope", "/assets/", "/assets/index.html", "/assets/login.html", "/assets/app-missing.js", "/login.html"} {
		if resp := get(t, dashboard.Handler(), path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestHandlerRejectsPost(t *testing.T) {
	rec := httptest.NewRecorder()
	dashboard.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("x")))

	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: status %d, want 405", rec.Code)
	}
	if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow %q, want GET, HEAD", got)
	}
}

func TestLoginPageForm(t *testing.T) {
	page := string(dashboard.LoginPage())

	for _, want := range []string{`<form method="post" action="/login">`, `name="token"`, `type="password"`, `id="invalid"`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	for _, banned := range []string{"<script", "http://", "https://"} {
		if strings.Contains(page, banned) {
			t.Errorf("login page contains %q; it must render with no script and nothing from elsewhere", banned)
		}
	}
}

func TestLoginHandlerPolicy(t *testing.T) {
	resp := get(t, dashboard.LoginHandler(), "/login", nil)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, dashboard.LoginPage()) {
		t.Fatalf("GET /login: status %d, body equal to LoginPage: %v", resp.StatusCode, bytes.Equal(body, dashboard.LoginPage()))
	}

	_, rest, _ := strings.Cut(string(body), "<style>")
	css, _, _ := strings.Cut(rest, "</style>")
	sum := sha256.Sum256([]byte(css))
	wantSource := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"

	policy := resp.Header.Get("Content-Security-Policy")
	if policy != dashboard.LoginCSP() {
		t.Errorf("header policy %q differs from LoginCSP() %q", policy, dashboard.LoginCSP())
	}
	if !strings.Contains(policy, wantSource) || !strings.Contains(policy, "form-action 'self'") {
		t.Errorf("policy %q lacks %s or form-action 'self'", policy, wantSource)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

// TestPageWeight adds up every file a first visit loads (index.html and
// what it refers to), uncompressed and gzip-compressed as Handler sends
// them, and fails when the compressed total passes the budget.
func TestPageWeight(t *testing.T) {
	const budgetGzip = 64 * 1024

	srv := httptest.NewServer(dashboard.Handler())
	defer srv.Close()

	paths := append([]string{"/"}, indexAssets(t)...)
	var totalRaw, totalGzip int
	for _, path := range paths {
		raw := fetchSize(t, srv.URL+path, "identity")
		compressed := fetchSize(t, srv.URL+path, "gzip")
		totalRaw += raw
		totalGzip += compressed
		t.Logf("%-28s %7d bytes, %7d gzip", path, raw, compressed)
	}
	t.Logf("%-28s %7d bytes, %7d gzip (%d files)", "first load total", totalRaw, totalGzip, len(paths))

	if totalGzip > budgetGzip {
		t.Errorf("first load is %d bytes gzip-compressed, over the %d-byte budget", totalGzip, budgetGzip)
	}
}

// fetchSize returns the number of body bytes sent for url with the given
// Accept-Encoding, without decompressing.
func fetchSize(t *testing.T, url, encoding string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("Accept-Encoding", encoding)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	return len(readBody(t, resp))
}
