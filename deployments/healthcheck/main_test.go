package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestHealthcheckStatus(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()

	cases := []struct {
		status int
		want   int
	}{{http.StatusOK, 0}, {http.StatusServiceUnavailable, 1}, {http.StatusNotFound, 1}}
	for _, c := range cases {
		status = c.status
		var stderr bytes.Buffer
		if got := run([]string{srv.URL + "/healthz"}, noEnv, &stderr); got != c.want {
			t.Errorf("status %d: exit %d, want %d (%s)", c.status, got, c.want, stderr.String())
		}
	}
}

func TestHealthcheckURLFromEnvironment(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()

	env := func(k string) string {
		if k == "HEALTHCHECK_URL" {
			return srv.URL + "/ready"
		}
		return ""
	}
	var stderr bytes.Buffer
	if got := run(nil, env, &stderr); got != 0 {
		t.Fatalf("exit %d, want 0 (%s)", got, stderr.String())
	}
}

func TestHealthcheckConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var stderr bytes.Buffer
	if got := run([]string{"http://" + addr + "/healthz"}, noEnv, &stderr); got != 1 {
		t.Fatalf("exit %d, want 1", got)
	}
	if !strings.Contains(stderr.String(), addr) {
		t.Errorf("message %q does not name %s", stderr.String(), addr)
	}
}

func TestHealthcheckInsecureTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()

	var stderr bytes.Buffer
	if got := run([]string{srv.URL}, noEnv, &stderr); got != 1 {
		t.Errorf("self-signed certificate without -insecure: exit %d, want 1", got)
	}
	if got := run([]string{"-insecure", srv.URL}, noEnv, &stderr); got != 0 {
		t.Errorf("self-signed certificate with -insecure: exit %d, want 0 (%s)", got, stderr.String())
	}
}
