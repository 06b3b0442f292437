package sender

import (
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Token claims the server checks.
const (
	TokenIssuer = "miniobserv-agent"
	TokenScope  = "ingest"
)

// Token lifetimes. A short lifetime limits the damage of a leaked token,
// and renewing ten minutes early leaves room for clock skew and for a
// request that waits in backoff.
const (
	DefaultTokenTTL    = time.Hour
	DefaultRenewBefore = 10 * time.Minute
)

// TokenSource supplies the bearer token for each request.
type TokenSource interface {
	// Token returns a token that is valid for a while yet.
	Token() (string, error)
	// Renew discards the current token and returns a new one. The sender
	// calls it when the server responds with 401.
	Renew() (string, error)
}

// JWTSource mints HS256 tokens signed with the agent secret and caches each
// until it nears expiry. It is safe for concurrent use.
type JWTSource struct {
	secret      []byte
	host        string
	ttl         time.Duration
	renewBefore time.Duration
	now         func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// JWTOption configures a JWTSource.
type JWTOption func(*JWTSource)

// WithTokenTTL sets the token lifetime and how long before expiry a new
// token is minted. renewBefore is lowered to half the lifetime if it is not
// shorter than the lifetime.
func WithTokenTTL(ttl, renewBefore time.Duration) JWTOption {
	return func(s *JWTSource) {
		s.ttl, s.renewBefore = ttl, renewBefore
	}
}

// WithTokenClock replaces time.Now, for tests.
func WithTokenClock(now func() time.Time) JWTOption {
	return func(s *JWTSource) { s.now = now }
}

// NewJWTSource returns a source of tokens with iss "miniobserv-agent", sub
// host and scope "ingest", signed with secret.
func NewJWTSource(secret, host string, opts ...JWTOption) *JWTSource {
	s := &JWTSource{
		secret:      []byte(secret),
		host:        host,
		ttl:         DefaultTokenTTL,
		renewBefore: DefaultRenewBefore,
		now:         time.Now,
	}
	for _, opt := range opts {
		opt(s)
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTokenTTL
	}
	if s.renewBefore <= 0 || s.renewBefore >= s.ttl {
		s.renewBefore = s.ttl / 2
	}
	return s
}

// Token implements TokenSource. It mints a new token when there is none
// or the current one expires within the renewal margin.
func (s *JWTSource) Token() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.token != "" && s.now().Before(s.expires.Add(-s.renewBefore)) {
		return s.token, nil
	}
	return s.mintLocked()
}

// Renew implements TokenSource.
func (s *JWTSource) Renew() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.mintLocked()
}

// agentClaims are the claims of an agent token. The jti makes every token
// distinct, so a renewed token differs from the one it replaces even
// within the same second.
type agentClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

func (s *JWTSource) mintLocked() (string, error) {
	now := s.now()
	expires := now.Add(s.ttl)
	claims := agentClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   s.host,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(expires),
			ID:        uuid.NewString(),
		},
		Scope: TokenScope,
	}

	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
	if err != nil {
		return "", fmt.Errorf("sign agent token: %w", err)
	}
	s.token, s.expires = token, expires
	return token, nil
}
