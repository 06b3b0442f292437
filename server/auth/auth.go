// Package auth verifies and mints the HS256 JSON Web Tokens that agents,
// scripts and the dashboard present to the server.
//
// Every token must be HS256 (alg none, HS384/512 and RS* are rejected), carry
// exp (a token without one would never expire), and name an accepted issuer.
// A leeway absorbs small clock skew between agent and server.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Issuers accepted on API tokens.
const (
	IssuerAgent = "miniobserv-agent" // agents and the v1 SDK
	IssuerCLI   = "miniobserv-cli"   // tokens minted by `miniobserv-server token`
	// IssuerSession marks dashboard session cookies, minted by the server
	// at sign-in and accepted only from the cookie.
	IssuerSession = "miniobserv-session"
)

// Scopes a token may be limited to. An empty scope allows both, as v1
// tokens do.
const (
	ScopeIngest = "ingest"
	ScopeRead   = "read"
)

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// Claims are the token claims MiniObserv reads.
type Claims struct {
	Scope string `json:"scope,omitempty"`
	jwt.RegisteredClaims
}

// Allows reports whether the token may be used for scope.
func (c *Claims) Allows(scope string) bool {
	return c.Scope == "" || c.Scope == scope
}

// Verifier checks tokens signed with the shared secret.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// NewVerifier returns a verifier for tokens signed with secret.
func NewVerifier(secret string) *Verifier {
	return &Verifier{
		secret: []byte(secret),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(Leeway),
			jwt.WithIssuedAt(),
		),
	}
}

// Verify parses raw and checks its signature, expiry, issuer and scope
// value. issuers lists the accepted iss values.
func (v *Verifier) Verify(raw string, issuers ...string) (*Claims, error) {
	claims := &Claims{}
	_, err := v.parser.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err != nil {
		return nil, fmt.Errorf("invalid token: %w", err)
	}
	if !slices.Contains(issuers, claims.Issuer) {
		return nil, fmt.Errorf("invalid token: issuer %q is not accepted", claims.Issuer)
	}
	switch claims.Scope {
	case "", ScopeIngest, ScopeRead:
	default:
		return nil, fmt.Errorf("invalid token: unknown scope %q", claims.Scope)
	}
	return claims, nil
}

// MintOptions describes a token to mint.
type MintOptions struct {
	Issuer  string
	Subject string
	Scope   string
	TTL     time.Duration
	// Now defaults to time.Now.
	Now time.Time
}

// Mint signs a new HS256 token with a random jti.
func Mint(secret string, o MintOptions) (string, error) {
	if o.TTL <= 0 {
		return "", errors.New("token ttl must be positive")
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}

	claims := Claims{
		Scope: o.Scope,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    o.Issuer,
			Subject:   o.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(o.TTL)),
			ID:        uuid.NewString(),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
}
