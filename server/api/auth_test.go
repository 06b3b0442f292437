package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/config"
	"github.com/kamerrezz/theminidog/server/servertest"
)

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	var key any = []byte(servertest.Secret)
	if method == jwt.SigningMethodNone {
		key = jwt.UnsafeAllowNoneSignatureType
	}
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestIngestTokenRules pins which tokens may ingest: exp is required and
// honoured with a 30 s leeway, only HS256 is accepted, and the issuer is
// checked. See https://github.com/golang-jwt/jwt/issues/496 for exp=0.
func TestIngestTokenRules(t *testing.T) {
	srv := servertest.Start(t, nil)
	now := time.Now().Unix()
	base := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "agent-1", "iss": auth.IssuerAgent, "iat": now}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}

	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"no exp", sign(t, jwt.SigningMethodHS256, base(nil)), 401},
		{"exp zero", sign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": 0})), 401},
		{"expired within leeway", sign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": now - 20})), 202},
		{"expired beyond leeway", sign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": now - 120})), 401},
		{"alg none", sign(t, jwt.SigningMethodNone, base(jwt.MapClaims{"exp": now + 300})), 401},
		{"HS384", sign(t, jwt.SigningMethodHS384, base(jwt.MapClaims{"exp": now + 300})), 401},
		{"no issuer", sign(t, jwt.SigningMethodHS256, jwt.MapClaims{"sub": "a", "exp": now + 300}), 401},
		{"foreign issuer", sign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": now + 300, "iss": "someone"})), 401},
		{"read scope", sign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": now + 300, "scope": "read"})), 403},
		{"cli issuer", sign(t, jwt.SigningMethodHS256, base(jwt.MapClaims{"exp": now + 300, "iss": auth.IssuerCLI})), 202},
		{"no token", "", 401},
	}
	stored := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", srv.URL+"/api/v1/metrics", tc.token, mustJSON(t, validBatch("agent-1", 2)))
			if r.status != tc.status {
				t.Fatalf("status = %d (%s), want %d", r.status, r.raw, tc.status)
			}
			if r.status == 202 {
				stored += 2
			}
		})
	}
	if n := countRows(t, srv.DatabaseURL); n != stored {
		t.Fatalf("rows = %d, want %d: a rejected token stored data", n, stored)
	}
}

func TestBearerSchemeCaseInsensitive(t *testing.T) {
	srv := servertest.Start(t, nil)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/metrics/query?host=h&name=mem.used_pct", nil)
		req.Header.Set("Authorization", scheme+" "+servertest.AgentToken(t))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("scheme %q: status %d, want 200", scheme, resp.StatusCode)
		}
	}
}

func TestReadEndpointsNeedCredentials(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.PublicRead = []string{"/api/v1/series"} })
	ingestOnly := servertest.Token(t, auth.IssuerCLI, auth.ScopeIngest, time.Hour)

	if r := do(t, "GET", srv.URL+"/api/v1/metrics/query?host=h&name=mem.used_pct", "", nil); r.status != 401 {
		t.Errorf("query without token: %d, want 401", r.status)
	}
	if r := do(t, "GET", srv.URL+"/api/v1/metrics/query?host=h&name=mem.used_pct", ingestOnly, nil); r.status != 403 {
		t.Errorf("query with an ingest token: %d, want 403", r.status)
	}
	if r := do(t, "GET", srv.URL+"/api/v1/series?host=h&name=mem.used_pct", "", nil); r.status != 200 {
		t.Errorf("public series without token: %d (%s), want 200", r.status, r.raw)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if r := do(t, "GET", srv.URL+path, "", nil); r.status != 200 || r.raw != "ok" {
			t.Errorf("%s: %d %q, want 200 ok", path, r.status, r.raw)
		}
	}
}

func TestRequireHostMatch(t *testing.T) {
	srv := servertest.Start(t, func(c *config.Config) { c.RequireHostMatch = true })
	tok, err := auth.Mint(servertest.Secret, auth.MintOptions{Issuer: auth.IssuerAgent, Subject: "web-1", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, validBatch("web-1", 1))); r.status != 202 {
		t.Fatalf("own host: %d %s, want 202", r.status, r.raw)
	}
	r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, validBatch("db-1", 1)))
	if r.status != 403 || !strings.HasPrefix(r.body["error"].(string), "host") {
		t.Fatalf("other host: %d %s, want 403 naming host", r.status, r.raw)
	}
}

func TestDashboardSignIn(t *testing.T) {
	srv := servertest.Start(t, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	read := servertest.Token(t, auth.IssuerCLI, auth.ScopeRead, time.Hour)

	resp, err := client.Get(srv.URL + "/login?token=" + read)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("sign-in: status %d, cookie %v; want 303 with a session cookie", resp.StatusCode, session)
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie HttpOnly=%v SameSite=%v, want HttpOnly and Strict", session.HttpOnly, session.SameSite)
	}

	resp, err = client.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("dashboard without a session: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.AddCookie(session)
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("dashboard with a session: %d %s, want 200 HTML", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/series?host=h&name=mem.used_pct", nil)
	req.AddCookie(session)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("read with cookie: %d, want 200", resp.StatusCode)
	}

	// The cookie is for reads only, and the link works once.
	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/metrics", strings.NewReader(string(mustJSON(t, validBatch("h", 1)))))
	req.AddCookie(session)
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("ingest with the session cookie: %d, want 401", resp.StatusCode)
	}
	if resp, err = client.Get(srv.URL + "/login?token=" + read); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login#invalid" {
		t.Fatalf("second use of the sign-in link: %d to %q, want 303 to /login#invalid", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == auth.CookieName && c.Value != "" {
			t.Fatalf("second use of the sign-in link set a session cookie")
		}
	}
}
