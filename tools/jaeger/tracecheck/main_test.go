package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// fakeQueryAPI serves the fixture as the traces of the agent's send span
// once ready() is true, an empty list before, and a fixed service list.
func fakeQueryAPI(t *testing.T, ready func() bool) *httptest.Server {
	t.Helper()
	traces, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/traces", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("service") != "miniobserv-agent" || q.Get("operation") != "send metrics batch" || !ready() {
			_, _ = w.Write([]byte(`{"data":[],"total":0,"limit":0,"offset":0,"errors":null}`))
			return
		}
		_, _ = w.Write(traces)
	})
	mux.HandleFunc("GET /api/services", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"data":["miniobserv-server"],"total":1,"limit":0,"offset":0,"errors":null}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRunPassesOnceTraceArrives(t *testing.T) {
	polls := 0
	srv := fakeQueryAPI(t, func() bool { polls++; return polls >= 2 })
	var out, errOut bytes.Buffer

	code := run([]string{"-query", srv.URL, "-timeout", "30s"}, &out, &errOut)

	if code != 0 {
		t.Fatalf("exit status = %d, want 0; output:\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "PASS: trace "+loadTrace(t).TraceID) {
		t.Errorf("output lacks the PASS line with the trace id:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "COPY metrics") {
		t.Errorf("output lacks the COPY metrics span of the tree:\n%s", out.String())
	}
}

func TestRunFailsWithoutAgentSpans(t *testing.T) {
	srv := fakeQueryAPI(t, func() bool { return false })
	var out, errOut bytes.Buffer

	code := run([]string{"-query", srv.URL, "-timeout", "1500ms"}, &out, &errOut)

	if code != 1 {
		t.Fatalf("exit status = %d, want 1; output:\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "services that sent spans: [miniobserv-server]") {
		t.Errorf("output does not list the services seen:\n%s", out.String())
	}
}

func TestRunRejectsBadTimeout(t *testing.T) {
	var out, errOut bytes.Buffer

	code := run([]string{"-timeout", "0s"}, &out, &errOut)

	if code != 2 {
		t.Errorf("exit status = %d, want 2", code)
	}
	if !strings.Contains(errOut.String(), "-timeout 0s") {
		t.Errorf("error output does not name the flag: %q", errOut.String())
	}
}
