package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server/auth"
)

const testSecret = "cli-test-secret-0123456789"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTokenSubcommandMintsVerifiableToken(t *testing.T) {
	t.Setenv("AGENT_TOKEN", testSecret)
	code, out, errOut := runCLI(t, "token", "--scope", "read", "--ttl", "2d", "--sub", "web-1")
	if code != 0 {
		t.Fatalf("token exited %d: %s", code, errOut)
	}

	claims, err := auth.NewVerifier(testSecret).Verify(strings.TrimSpace(out), auth.IssuerCLI)
	if err != nil {
		t.Fatalf("minted token does not verify: %v", err)
	}
	if claims.Scope != "read" || claims.Subject != "web-1" {
		t.Errorf("claims scope=%q sub=%q, want read and web-1", claims.Scope, claims.Subject)
	}
	if ttl := time.Until(claims.ExpiresAt.Time); ttl < 47*time.Hour || ttl > 48*time.Hour {
		t.Errorf("token lives %s, want 2 days", ttl)
	}
}

func TestTokenSubcommandRejectsBadInput(t *testing.T) {
	cases := []struct {
		name, secret string
		args         []string
		want         string
	}{
		{"short secret", "short", []string{"token"}, "AGENT_TOKEN"},
		{"bad scope", testSecret, []string{"token", "--scope", "admin"}, "--scope"},
		{"bad ttl", testSecret, []string{"token", "--ttl", "forever"}, "--ttl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AGENT_TOKEN", tc.secret)
			code, _, errOut := runCLI(t, tc.args...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 naming %s", code, errOut, tc.want)
			}
		})
	}
}

func TestMigrateSubcommands(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.NewDatabase(t))

	code, out, errOut := runCLI(t, "migrate", "version")
	if code != 0 || !strings.Contains(out, "version 0, dirty false") {
		t.Fatalf("version on an empty database: exit %d, %q %q", code, out, errOut)
	}
	if code, out, errOut = runCLI(t, "migrate", "up"); code != 0 || strings.Contains(out, "version 0") {
		t.Fatalf("up: exit %d, %q %q", code, out, errOut)
	}
	if code, out, errOut = runCLI(t, "migrate", "down"); code != 0 {
		t.Fatalf("down: exit %d, %q %q", code, out, errOut)
	}
	if code, out, errOut = runCLI(t, "migrate", "force", "1"); code != 0 || !strings.Contains(out, "version 1, dirty false") {
		t.Fatalf("force 1: exit %d, %q %q", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, "migrate", "force", "x"); code != 1 || !strings.Contains(errOut, "not a version") {
		t.Fatalf("force x: exit %d, %q; want 1 with a message", code, errOut)
	}
}

func TestServeStopsOnInvalidConfig(t *testing.T) {
	t.Setenv("DATABASE_URL", "mysql://db/x")
	t.Setenv("AGENT_TOKEN", "s3cr3t")
	t.Setenv("HOST_STALE_AFTER", "1m")
	code, _, errOut := runCLI(t, "serve")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	for _, name := range []string{"DATABASE_URL", "AGENT_TOKEN", "HOST_STALE_AFTER"} {
		if !strings.Contains(errOut, name) {
			t.Errorf("stderr does not name %s: %q", name, errOut)
		}
	}
	if strings.Contains(errOut, "s3cr3t") {
		t.Errorf("stderr shows the secret: %q", errOut)
	}
}

func TestServeRefusesTimescaleModeWithoutExtension(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.NewDatabase(t))
	t.Setenv("AGENT_TOKEN", testSecret)
	t.Setenv("STORAGE_MODE", "timescaledb")
	t.Setenv("LISTEN_ADDR", "127.0.0.1:0")
	code, _, errOut := runCLI(t, "serve")
	if code != 1 || !strings.Contains(errOut, "STORAGE_MODE=timescaledb") {
		t.Fatalf("exit %d, stderr %q; want 1 naming STORAGE_MODE", code, errOut)
	}
}
