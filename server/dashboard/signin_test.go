package dashboard_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
	"github.com/kamerrezz/theminidog/server/servertest"
)

const signInForm = `form[method="post"][action="/login"] input[name="token"][type="password"]`

// pastToken mints a token of issuer and scope that expired an hour ago,
// well past the 30 s leeway the server allows.
func pastToken(t *testing.T, issuer, scope string) string {
	t.Helper()
	tok, err := auth.Mint(servertest.Secret, auth.MintOptions{
		Issuer: issuer, Subject: "test", Scope: scope, TTL: time.Hour, Now: time.Now().Add(-2 * time.Hour),
	})
	if err != nil {
		t.Fatalf("mint expired token: %v", err)
	}
	return tok
}

// waitSignInPage waits until the tab shows the sign-in form; with invalid
// it also waits for the message that the token was not accepted.
func waitSignInPage(page *browsertest.Page, invalid bool) {
	if invalid {
		page.WaitFor(`window.location.pathname === "/login" && window.location.hash === "#invalid"`, "the sign-in page at #invalid")
		page.WaitVisible("#invalid")
	} else {
		page.WaitFor(`window.location.pathname === "/login"`, "the sign-in page")
		page.WaitHidden("#invalid")
	}
	page.WaitVisible(signInForm)
	page.WaitVisible(`form button[type="submit"]`)
}

func TestSignIn(t *testing.T) {
	s := startRealSite(t)
	newPage := func(t *testing.T) *browsertest.Page {
		return sharedBrowser(t).NewPage(t, browsertest.PageOptions{Viewport: browsertest.Desktop})
	}
	signInLink := func(token string) string {
		return s.url + "/login?" + url.Values{"token": {token}}.Encode()
	}

	t.Run("no session", func(t *testing.T) {
		page := newPage(t)
		page.Navigate(s.dashboardURL(webHost.name, "1h"))
		waitSignInPage(page, false)
	})

	t.Run("form", func(t *testing.T) {
		page := newPage(t)
		page.Navigate(s.url + "/login")
		waitSignInPage(page, false)
		page.Type("#token", readToken(t))
		page.Click(`form button[type="submit"]`)
		page.WaitFor(`window.location.pathname === "/"`, "the dashboard after the form")
		page.WaitVisible(`.host-button[data-host="web-1"]`)
	})

	t.Run("link works once", func(t *testing.T) {
		token := readToken(t)
		first := newPage(t)
		first.Navigate(signInLink(token))
		first.WaitFor(`window.location.pathname === "/"`, "the dashboard after the first use of the link")
		first.WaitVisible(`.host-button[data-host="web-1"]`)

		second := newPage(t)
		second.Navigate(signInLink(token))
		waitSignInPage(second, true)
	})

	t.Run("expired link", func(t *testing.T) {
		page := newPage(t)
		page.Navigate(signInLink(pastToken(t, auth.IssuerCLI, auth.ScopeRead)))
		waitSignInPage(page, true)
	})

	t.Run("ingest token", func(t *testing.T) {
		page := newPage(t)
		page.Navigate(signInLink(servertest.Token(t, auth.IssuerCLI, auth.ScopeIngest, time.Hour)))
		waitSignInPage(page, true)
	})

	t.Run("expired session", func(t *testing.T) {
		page := s.open(t, browsertest.PageOptions{Viewport: browsertest.Desktop}, webHost.name, "1h")
		page.WaitVisible(legendCurrent("cpu", "usage"))

		// The next refresh presents an expired session, so the API responds
		// with 401 and the page goes to the sign-in form.
		page.SetCookie(s.url, auth.CookieName, pastToken(t, auth.IssuerSession, auth.ScopeRead))
		waitSignInPage(page, false)

		page.Navigate(s.dashboardURL(webHost.name, "1h"))
		waitSignInPage(page, false)
	})
}
