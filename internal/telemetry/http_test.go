package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// newIngestServer starts an httptest server whose ServeMux, wrapped by the
// server Telemetry's middleware, handles POST /api/v1/metrics with a child
// span. Each request's baggage member "batch" is sent to seen.
func newIngestServer(t *testing.T, tel *telemetry.Telemetry, seen chan<- string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		_, span := tel.Tracer().Start(r.Context(), "validate batch")
		_, _ = io.Copy(io.Discard, r.Body)
		span.End()

		seen <- baggage.FromContext(r.Context()).Member("batch").Value()
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewServer(tel.HTTPHandler(mux))
	t.Cleanup(srv.Close)
	return srv
}

func TestTraceAcrossAgentAndServer(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	agent, _ := setup(t, "miniobserv-agent")
	server, _ := setup(t, "miniobserv-server")
	seen := make(chan string, 1)
	srv := newIngestServer(t, server, seen)
	client := &http.Client{Transport: agent.HTTPTransport(nil)}

	member, err := baggage.NewMember("batch", "b-42")
	if err != nil {
		t.Fatalf("baggage member: %v", err)
	}
	bag, err := baggage.New(member)
	if err != nil {
		t.Fatalf("baggage: %v", err)
	}
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	ctx, parent := agent.Tracer().Start(ctx, "send batch")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/metrics", strings.NewReader(`{"host":"h1"}`))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("post batch: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	parent.End()
	flush(t, agent, server)

	if got := <-seen; got != "b-42" {
		t.Errorf("server saw baggage batch=%q, want b-42", got)
	}
	rcv.WaitForSpans(t, otlptest.HasSpan("send batch", "POST", "POST /api/v1/metrics", "validate batch"), waitTimeout)
	send, _ := rcv.SpanByName("send batch")
	clientSpan, _ := rcv.SpanByName("POST")
	serverSpan, _ := rcv.SpanByName("POST /api/v1/metrics")
	validate, _ := rcv.SpanByName("validate batch")

	for _, s := range []otlptest.Span{clientSpan, serverSpan, validate} {
		if s.TraceID != send.TraceID {
			t.Errorf("span %q trace id = %s, want the agent's %s", s.Name, s.TraceID, send.TraceID)
		}
	}
	links := []struct {
		child, parent otlptest.Span
	}{{clientSpan, send}, {serverSpan, clientSpan}, {validate, serverSpan}}
	for _, l := range links {
		if l.child.ParentSpanID != l.parent.SpanID {
			t.Errorf("span %q parent = %s, want %q (%s)", l.child.Name, l.child.ParentSpanID, l.parent.Name, l.parent.SpanID)
		}
	}

	services := []struct {
		span    otlptest.Span
		service string
	}{{send, "miniobserv-agent"}, {clientSpan, "miniobserv-agent"}, {serverSpan, "miniobserv-server"}, {validate, "miniobserv-server"}}
	for _, s := range services {
		if s.span.Service != s.service {
			t.Errorf("span %q service = %q, want %q", s.span.Name, s.span.Service, s.service)
		}
	}
	if clientSpan.Kind != "client" || serverSpan.Kind != "server" {
		t.Errorf("kinds = %s and %s, want client and server", clientSpan.Kind, serverSpan.Kind)
	}
	if got := serverSpan.Attr("http.route"); got != "/api/v1/metrics" {
		t.Errorf("server span http.route = %q, want /api/v1/metrics", got)
	}
	if got := serverSpan.Attr("http.response.status_code"); got != "202" {
		t.Errorf("server span status code = %q, want 202", got)
	}
}

func TestHandlerContinuesTraceparent(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	server, _ := setup(t, "miniobserv-server")
	srv := newIngestServer(t, server, make(chan string, 1))
	const (
		traceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
		parentID = "00f067aa0ba902b7"
	)

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/metrics", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	resp.Body.Close()
	flush(t, server)

	rcv.WaitForSpans(t, otlptest.HasSpan("POST /api/v1/metrics"), waitTimeout)
	span, _ := rcv.SpanByName("POST /api/v1/metrics")
	if span.TraceID != traceID {
		t.Errorf("trace id = %s, want %s from traceparent", span.TraceID, traceID)
	}
	if span.ParentSpanID != parentID {
		t.Errorf("parent span id = %s, want %s from traceparent", span.ParentSpanID, parentID)
	}
}

func TestHTTPServerMetricsArrive(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	server, _ := setup(t, "miniobserv-server")
	seen := make(chan string, 2)
	srv := newIngestServer(t, server, seen)

	for range 2 {
		resp, err := http.Post(srv.URL+"/api/v1/metrics", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		resp.Body.Close()
	}
	flush(t, server)

	rcv.WaitForMetric(t, "http.server.request.duration", map[string]string{"http.route": "/api/v1/metrics"}, func(float64) bool { return true }, waitTimeout)
	count, _ := rcv.MetricCount("http.server.request.duration", map[string]string{"http.route": "/api/v1/metrics"})
	if count != 2 {
		t.Errorf("request duration count = %d, want 2", count)
	}
}

type plainHandler struct{}

func (*plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

func TestHTTPWrappersUnchangedWhenDisabled(t *testing.T) {
	clearOTelEnv(t)
	tel, _ := setup(t, "miniobserv-server")
	handler := &plainHandler{}
	transport := &http.Transport{}

	if got := tel.HTTPHandler(handler); got != http.Handler(handler) {
		t.Errorf("handler wrapped as %T, want it unchanged", got)
	}
	if got := tel.HTTPTransport(transport); got != http.RoundTripper(transport) {
		t.Errorf("transport wrapped as %T, want it unchanged", got)
	}
}
