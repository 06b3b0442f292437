package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The fixture is one trace as a real Jaeger v1.75.0 returned it for
// GET /api/traces?service=miniobserv-agent&operation=send metrics batch:
// the agent's send and POST spans and the server's request, validation,
// BEGIN, INSERT ingest_batches, COPY metrics and COMMIT spans.
const fixture = "testdata/ingest-trace.json"

func defaultExpect() Expect {
	return Expect{
		AgentService:  "miniobserv-agent",
		ServerService: "miniobserv-server",
		SendSpan:      "send metrics batch",
		ClientSpan:    "POST",
		RequestSpan:   "POST /api/v1/metrics",
		ValidateSpan:  "validate batch",
		InsertSpan:    "COPY metrics",
		RequestStatus: 202,
	}
}

func loadTrace(t *testing.T) Trace {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var resp apiResponse[[]Trace]
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatalf("decode %s: %v", fixture, err)
	}
	if len(resp.Data) != 1 {
		t.Fatalf("%s contains %d traces, want 1", fixture, len(resp.Data))
	}
	return resp.Data[0]
}

// spanNamed returns a pointer into tr.Spans, so a test can alter the span.
func spanNamed(t *testing.T, tr *Trace, name string) *Span {
	t.Helper()
	for i := range tr.Spans {
		if tr.Spans[i].OperationName == name {
			return &tr.Spans[i]
		}
	}
	t.Fatalf("fixture has no span %q", name)
	return nil
}

func setTag(s *Span, key string, value any) {
	for i := range s.Tags {
		if s.Tags[i].Key == key {
			s.Tags[i].Value = value
			return
		}
	}
	s.Tags = append(s.Tags, Tag{Key: key, Value: value})
}

func removeSpan(tr *Trace, name string) {
	remaining := tr.Spans[:0]
	for _, s := range tr.Spans {
		if s.OperationName != name {
			remaining = append(remaining, s)
		}
	}
	tr.Spans = remaining
}

// wantProblem fails unless one of problems contains part.
func wantProblem(t *testing.T, problems []string, part string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, part) {
			return
		}
	}
	t.Errorf("problems %q do not mention %q", problems, part)
}

func TestFindChainAcceptsIngestTrace(t *testing.T) {
	tr := loadTrace(t)

	chain, problems := FindChain(tr, defaultExpect())

	if problems != nil {
		t.Fatalf("problems = %q, want none", problems)
	}
	send, client, request := spanNamed(t, &tr, "send metrics batch"), spanNamed(t, &tr, "POST"), spanNamed(t, &tr, "POST /api/v1/metrics")
	if chain.Send.SpanID != send.SpanID {
		t.Errorf("send = %s, want %s", chain.Send.SpanID, send.SpanID)
	}
	if chain.Client.SpanID != client.SpanID {
		t.Errorf("client = %s, want %s", chain.Client.SpanID, client.SpanID)
	}
	if chain.Request.SpanID != request.SpanID {
		t.Errorf("request = %s, want %s", chain.Request.SpanID, request.SpanID)
	}
	if chain.Validate.OperationName != "validate batch" {
		t.Errorf("validate = %q, want validate batch", chain.Validate.OperationName)
	}
	if chain.Insert.OperationName != "COPY metrics" {
		t.Errorf("insert = %q, want COPY metrics", chain.Insert.OperationName)
	}
}

func TestFindChainRequestWithForeignParent(t *testing.T) {
	tr := loadTrace(t)
	// A request whose traceparent named a span the agent never exported.
	spanNamed(t, &tr, "POST /api/v1/metrics").References[0].SpanID = "b7ad6b7169203331"

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, "did not continue the agent's traceparent")
}

func TestFindChainInsertSpanMissing(t *testing.T) {
	tr := loadTrace(t)
	removeSpan(&tr, "COPY metrics")

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, "no PostgreSQL span")
}

func TestFindChainInsertUnderOtherParent(t *testing.T) {
	tr := loadTrace(t)
	// The COPY span hangs under the agent's send span instead of the request.
	spanNamed(t, &tr, "COPY metrics").References[0].SpanID = spanNamed(t, &tr, "send metrics batch").SpanID

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, "no PostgreSQL span")
}

func TestFindChainValidateSpanMissing(t *testing.T) {
	tr := loadTrace(t)
	removeSpan(&tr, "validate batch")

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, `no span "validate batch"`)
}

func TestFindChainClientSpanMissing(t *testing.T) {
	tr := loadTrace(t)
	removeSpan(&tr, "POST")

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, "no HTTP client span")
}

func TestFindChainRequestErrorStatus(t *testing.T) {
	tr := loadTrace(t)
	request := spanNamed(t, &tr, "POST /api/v1/metrics")
	setTag(request, "error", true)
	setTag(request, "otel.status_code", "ERROR")

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, "request span \"POST /api/v1/metrics\"")
}

func TestFindChainRequestRejected(t *testing.T) {
	tr := loadTrace(t)
	setTag(spanNamed(t, &tr, "POST /api/v1/metrics"), "http.response.status_code", float64(400))

	_, problems := FindChain(tr, defaultExpect())

	wantProblem(t, problems, `http.response.status_code "400", want 202`)
}

func TestFindChainWrongService(t *testing.T) {
	tr := loadTrace(t)
	want := defaultExpect()
	want.AgentService = "other-agent"

	_, problems := FindChain(tr, want)

	wantProblem(t, problems, `no span "send metrics batch" from service "other-agent"`)
}

func TestFindChainReferenceLoopEnds(t *testing.T) {
	tr := loadTrace(t)
	// The send span claims the request as its parent: a loop.
	send := spanNamed(t, &tr, "send metrics batch")
	send.References = []Reference{{RefType: "CHILD_OF", TraceID: tr.TraceID, SpanID: spanNamed(t, &tr, "POST /api/v1/metrics").SpanID}}

	_, problems := FindChain(tr, defaultExpect())

	if problems != nil {
		t.Errorf("problems = %q, want none: the chain itself is intact", problems)
	}
}

func TestCloserPrefersLongerChain(t *testing.T) {
	noClient := loadTrace(t)
	removeSpan(&noClient, "POST")
	noInsert := loadTrace(t)
	removeSpan(&noInsert, "COPY metrics")

	shortChain, shortProblems := FindChain(noClient, defaultExpect())
	longChain, longProblems := FindChain(noInsert, defaultExpect())

	if !closer(longChain, longProblems, shortChain, shortProblems) {
		t.Errorf("a chain missing only its insert span (%q) is not closer than one missing its client span (%q)", longProblems, shortProblems)
	}
	if closer(shortChain, shortProblems, longChain, longProblems) {
		t.Errorf("a chain missing its client span is closer than one missing only its insert span")
	}
}
