package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed assets
var embedded embed.FS

const (
	indexFile = "index.html"
	loginFile = "login.html"

	// AssetPrefix is the URL path under which the script and stylesheet are
	// served. Their names carry a hash of their content.
	AssetPrefix = "/assets/"

	// immutableCache lets browsers keep a content-hashed file for a year
	// without asking again: a new build has new names.
	immutableCache = "public, max-age=31536000, immutable"
	// revalidateCache makes browsers ask again (cheaply, with the ETag) for
	// a page whose name stays the same across builds.
	revalidateCache = "no-cache"

	// dashboardCSP allows only same-origin scripts, styles and API calls.
	// img-src allows data: for the empty favicon that stops a /favicon.ico
	// request.
	dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// Assets returns the embedded build output: index.html, login.html and the
// content-hashed app-*.js and app-*.css files.
func Assets() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		// fs.Sub fails only on an invalid path name, and "assets" is valid.
		panic(fmt.Sprintf("dashboard: open embedded assets: %v", err))
	}
	return sub
}

// LoginPage returns the sign-in page: a form that posts a read token as
// the field "token" to /login. It has no script and one inline stylesheet,
// so it renders before the visitor has a session; LoginCSP allows exactly
// that stylesheet. A failed sign-in can redirect to /login#invalid, which
// shows the page's error message (CSS :target, no script needed).
func LoginPage() []byte {
	return bytes.Clone(loadSite().login.body)
}

// LoginCSP returns the Content-Security-Policy for LoginPage: nothing but
// its own inline stylesheet (allowed by hash) and a form posting to the
// same origin.
func LoginCSP() string {
	return loadSite().login.csp
}

// LoginHandler serves LoginPage to GET and HEAD with its Content-Security-
// Policy and no caching. The server routes POST /login to its own handler.
func LoginHandler() http.Handler {
	site := loadSite()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, site.login)
	})
}

// Handler serves the dashboard: index.html at "/" (and "/index.html") and
// the script and stylesheet under /assets/. Other paths get 404, other
// methods 405. Responses carry an ETag and are gzip-compressed when the
// client accepts it.
func Handler() http.Handler {
	site := loadSite()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := site.lookup(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		serveAsset(w, r, a)
	})
}

// asset is one file ready to serve, with its gzip form when that is
// smaller.
type asset struct {
	name        string
	body        []byte
	gzipBody    []byte
	etag        string
	contentType string
	cache       string
	csp         string
}

type site struct {
	index  *asset
	login  *asset
	static map[string]*asset
}

// loadSite prepares every embedded file once per process.
var loadSite = sync.OnceValue(func() *site {
	s, err := buildSite(Assets())
	if err != nil {
		// The files are embedded at compile time, so this fails only on a
		// broken build output, which TestEmbeddedAssetsComplete catches.
		panic(fmt.Sprintf("dashboard: %v", err))
	}
	return s
})

func buildSite(files fs.FS) (*site, error) {
	s := &site{static: map[string]*asset{}}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("list embedded assets: %w", err)
	}

	for _, entry := range entries {
		if entry.IsDir() {
			continue
		}
		a, err := loadAsset(files, entry.Name())
		if err != nil {
			return nil, err
		}
		switch entry.Name() {
		case indexFile:
			a.cache, a.csp = revalidateCache, dashboardCSP
			s.index = a
		case loginFile:
			a.cache, a.csp = "no-store", loginPolicy(a.body)
			s.login = a
		default:
			a.cache = immutableCache
			s.static[entry.Name()] = a
		}
	}

	if s.index == nil || s.login == nil {
		return nil, fmt.Errorf("embedded assets lack %s or %s: rebuild them with npm --prefix web run build", indexFile, loginFile)
	}
	return s, nil
}

func loadAsset(files fs.FS, name string) (*asset, error) {
	body, err := fs.ReadFile(files, name)
	if err != nil {
		return nil, fmt.Errorf("read embedded asset %s: %w", name, err)
	}

	contentType := mime.TypeByExtension(path.Ext(name))
	if contentType == "" {
		contentType = http.DetectContentType(body)
	}
	// Some systems map .js to application/javascript; browsers accept both,
	// but one Content-Type on every machine keeps tests and caches simple.
	if path.Ext(name) == ".js" {
		contentType = "text/javascript; charset=utf-8"
	}

	sum := sha256.Sum256(body)
	a := &asset{
		name:        name,
		body:        body,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		contentType: contentType,
	}
	a.gzipBody, err = compress(body)
	if err != nil {
		return nil, fmt.Errorf("compress embedded asset %s: %w", name, err)
	}
	return a, nil
}

// compress returns body gzip-compressed, or nil when that does not make it
// smaller.
func compress(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() >= len(body) {
		return nil, nil
	}
	return buf.Bytes(), nil
}

// loginPolicy allows the login page's inline <style> element by its
// SHA-256 hash, and nothing else but a same-origin form post.
func loginPolicy(page []byte) string {
	styleSource := "'none'"
	if css, ok := inlineStyle(page); ok {
		sum := sha256.Sum256(css)
		styleSource = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; style-src " + styleSource + "; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// inlineStyle returns the text between the first <style> and </style>.
func inlineStyle(page []byte) ([]byte, bool) {
	_, rest, ok := bytes.Cut(page, []byte("<style>"))
	if !ok {
		return nil, false
	}
	css, _, ok := bytes.Cut(rest, []byte("</style>"))
	return css, ok
}

func (s *site) lookup(urlPath string) (*asset, bool) {
	if urlPath == "/" || urlPath == "/"+indexFile {
		return s.index, true
	}
	name, ok := strings.CutPrefix(urlPath, AssetPrefix)
	if !ok {
		return nil, false
	}
	a, ok := s.static[name]
	return a, ok
}

func serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}

	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if a.csp != "" {
		h.Set("Content-Security-Policy", a.csp)
		h.Set("Referrer-Policy", "no-referrer")
	}

	body, etag := a.body, a.etag
	if a.gzipBody != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gzipBody
		etag = strings.TrimSuffix(a.etag, `"`) + `-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)

	// ServeContent responds to If-None-Match with 304, HEAD without a body, and
	// Range requests; a zero modification time leaves Last-Modified out.
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header lists gzip (or *)
// with a non-zero quality.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		return !zeroQuality(params)
	}
	return false
}

func zeroQuality(params string) bool {
	for param := range strings.SplitSeq(params, ";") {
		key, value, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok || strings.ToLower(strings.TrimSpace(key)) != "q" {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return err == nil && q == 0
	}
	return false
}
