package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/pgtest"
)

// TestIngestTraceSpansAgentServerAndStorage runs both binaries exporting
// to an in-process OTLP receiver and checks that one metric batch makes one
// trace: the agent's send span, its HTTP client span, the server's request
// span, and the validation and COPY spans under it.
func TestIngestTraceSpansAgentServerAndStorage(t *testing.T) {
	serverBin, agentBin := binaries(t)
	rcv := otlptest.New(t)
	db := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	base := "http://" + addr
	host, _ := os.Hostname()
	otel := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.URL(), "OTEL_BSP_SCHEDULE_DELAY=200", "OTEL_METRIC_EXPORT_INTERVAL=500"}

	srv := start(t, serverBin, append(otel, "DATABASE_URL="+db, "AGENT_TOKEN="+secret, "LISTEN_ADDR="+addr), "serve")
	waitReady(t, base, srv)
	start(t, agentBin, append(otel, "SERVER_URL="+base, "AGENT_TOKEN="+secret, "AGENT_HOST="+host,
		"COLLECT_INTERVAL=1s", "COLLECTORS=mem", "LOG_STATE_FILE="+t.TempDir()+"/state.json"))

	// Find a send span whose trace holds the whole chain.
	var chain map[string]otlptest.Span
	rcv.WaitForSpans(t, func(spans []otlptest.Span) bool {
		chain = ingestChain(spans)
		return chain != nil
	}, 60*time.Second)

	services := map[string]string{
		"send": "miniobserv-agent", "client": "miniobserv-agent",
		"request": "miniobserv-server", "validate": "miniobserv-server", "copy": "miniobserv-server",
	}
	for role, service := range services {
		if chain[role].Service != service {
			t.Errorf("%s span %q comes from %q, want %q", role, chain[role].Name, chain[role].Service, service)
		}
	}
	if chain["request"].Attr("http.route") != "/api/v1/metrics" {
		t.Errorf("request span route = %q, want /api/v1/metrics", chain["request"].Attr("http.route"))
	}

	// The server counts what it ingested.
	rcv.WaitForMetric(t, "miniobserv.points.ingested", nil, func(v float64) bool { return v >= 3 }, 30*time.Second)
}

// ingestChain returns the spans of one ingest trace by role, or nil when no
// trace is complete yet: send → client → request → validate, and
// request → … → COPY metrics.
func ingestChain(spans []otlptest.Span) map[string]otlptest.Span {
	byID := map[string]otlptest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	childOf := func(parent otlptest.Span, name string) (otlptest.Span, bool) {
		for _, s := range spans {
			if s.ParentSpanID == parent.SpanID && s.Name == name {
				return s, true
			}
		}
		return otlptest.Span{}, false
	}
	descendant := func(root otlptest.Span, name string) (otlptest.Span, bool) {
		for _, s := range spans {
			if s.Name != name || s.TraceID != root.TraceID {
				continue
			}
			for p, ok := byID[s.ParentSpanID]; ok; p, ok = byID[p.ParentSpanID] {
				if p.SpanID == root.SpanID {
					return s, true
				}
			}
		}
		return otlptest.Span{}, false
	}

	for _, send := range spans {
		if send.Name != "send metrics batch" {
			continue
		}
		client, ok := childOf(send, "POST")
		if !ok {
			continue
		}
		request, ok := childOf(client, "POST /api/v1/metrics")
		if !ok {
			continue
		}
		validate, ok := childOf(request, "validate batch")
		if !ok {
			continue
		}
		copySpan, ok := descendant(request, "COPY metrics")
		if !ok {
			continue
		}
		return map[string]otlptest.Span{"send": send, "client": client, "request": request, "validate": validate, "copy": copySpan}
	}
	return nil
}
