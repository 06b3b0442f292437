package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// CookieName is the dashboard session cookie.
const CookieName = "miniobserv_session"

// SessionTTL caps how long a dashboard sign-in lasts.
const SessionTTL = 12 * time.Hour

type claimsKey struct{}

// FromContext returns the claims of the authenticated request, if any.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Guard authenticates HTTP requests with bearer tokens or the session
// cookie.
type Guard struct {
	v      *Verifier
	secret string
	public map[string]bool
	secure bool

	mu   sync.Mutex
	used map[string]time.Time // one-time sign-in token ids -> expiry
}

// NewGuard returns a guard for tokens signed with secret. publicRead lists
// read paths open without credentials; secureCookie sets the cookie's
// Secure flag (when the server speaks TLS).
func NewGuard(secret string, publicRead []string, secureCookie bool) *Guard {
	g := &Guard{v: NewVerifier(secret), secret: secret, public: map[string]bool{}, secure: secureCookie, used: map[string]time.Time{}}
	for _, p := range publicRead {
		g.public[p] = true
	}
	return g
}

// Verifier returns the guard's token verifier.
func (g *Guard) Verifier() *Verifier { return g.v }

// bearer extracts the token from an Authorization header, matching the
// scheme case-insensitively.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// authenticate returns the request's claims for scope from the bearer
// token, or from the session cookie for read requests. On failure it
// returns the status to respond with, 401 for missing or invalid credentials and
// 403 for a valid token of another scope, and the reason.
func (g *Guard) authenticate(r *http.Request, scope string) (*Claims, int, string) {
	if raw, ok := bearer(r); ok {
		c, err := g.v.Verify(raw, IssuerAgent, IssuerCLI)
		if err != nil {
			return nil, http.StatusUnauthorized, err.Error()
		}
		if !c.Allows(scope) {
			return nil, http.StatusForbidden, "token scope " + c.Scope + " does not allow " + scope + " requests: mint a token with --scope " + scope
		}
		return c, 0, ""
	}

	if scope == ScopeRead {
		if ck, err := r.Cookie(CookieName); err == nil {
			c, err := g.v.Verify(ck.Value, IssuerSession)
			if err != nil {
				return nil, http.StatusUnauthorized, "session expired or invalid: sign in again at /login"
			}
			return c, 0, ""
		}
	}
	return nil, http.StatusUnauthorized, "missing credentials: send Authorization: Bearer <token>"
}

// Require wraps next so that it runs only for requests allowed scope. A
// read path listed in PUBLIC_READ is open to everyone.
func (g *Guard) Require(scope, path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scope == ScopeRead && g.public[path] {
			next.ServeHTTP(w, r)
			return
		}
		c, status, msg := g.authenticate(r, scope)
		if c == nil {
			writeAuthError(w, status, msg)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// RequirePage is Require for HTML pages: it redirects to the sign-in page
// instead of responding with 401.
func (g *Guard) RequirePage(path string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.public[path] {
			next.ServeHTTP(w, r)
			return
		}
		if c, _, _ := g.authenticate(r, ScopeRead); c == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeAuthError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="miniobserv"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// SignIn exchanges a read token for a session cookie. A token that carries
// an id can be used for sign-in once, so a sign-in URL printed to a
// terminal stops working after its first use.
func (g *Guard) SignIn(w http.ResponseWriter, raw string, now time.Time) error {
	c, err := g.v.Verify(raw, IssuerAgent, IssuerCLI)
	if err != nil {
		return err
	}
	if !c.Allows(ScopeRead) {
		return errScope
	}
	if err := g.useOnce(c, now); err != nil {
		return err
	}

	exp := now.Add(SessionTTL)
	if c.ExpiresAt != nil && c.ExpiresAt.Time.Before(exp) {
		exp = c.ExpiresAt.Time
	}
	session, err := Mint(g.secret, MintOptions{Issuer: IssuerSession, Subject: c.Subject, Scope: ScopeRead, TTL: exp.Sub(now), Now: now})
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: session, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: g.secure,
	})
	return nil
}

// SignOut clears the session cookie.
func (g *Guard) SignOut(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: g.secure})
}

type authError string

func (e authError) Error() string { return string(e) }

const (
	errScope    = authError("token scope does not allow read access: use a read token")
	errUsedOnce = authError("this sign-in link was already used: mint a new one with `miniobserv-server token --scope read`")
)

func (g *Guard) useOnce(c *Claims, now time.Time) error {
	if c.ID == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	for id, exp := range g.used {
		if now.After(exp.Add(Leeway)) {
			delete(g.used, id)
		}
	}
	if _, seen := g.used[c.ID]; seen {
		return errUsedOnce
	}
	exp := now.Add(SessionTTL)
	if c.ExpiresAt != nil {
		exp = c.ExpiresAt.Time
	}
	g.used[c.ID] = exp
	return nil
}
