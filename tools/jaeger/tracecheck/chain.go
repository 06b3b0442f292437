package main

import (
	"cmp"
	"fmt"
	"slices"
)

// Expect names the spans of one ingest trace.
type Expect struct {
	AgentService  string // service.name of the agent
	ServerService string // service.name of the server
	SendSpan      string // the agent's span around one batch send
	ClientSpan    string // the HTTP client span of one send attempt
	RequestSpan   string // the server's span of the ingest request
	ValidateSpan  string // the server's validation span
	InsertSpan    string // the PostgreSQL span that stores the points
	RequestStatus int    // HTTP status the server returns for a stored batch
}

// Chain is an ingest trace that passed every check, its spans by role.
type Chain struct {
	Trace    Trace
	Send     Span
	Client   Span
	Request  Span
	Validate Span
	Insert   Span
}

// traceIndex gives the service, the parent and the children of each span
// of one trace.
type traceIndex struct {
	trace    Trace
	byID     map[string]Span
	children map[string][]Span
}

// newTraceIndex indexes t. Children are kept in start time order, which
// Jaeger does not guarantee for the spans of a trace.
func newTraceIndex(t Trace) traceIndex {
	ix := traceIndex{trace: t, byID: map[string]Span{}, children: map[string][]Span{}}
	for _, s := range t.Spans {
		ix.byID[s.SpanID] = s
	}
	for _, s := range t.Spans {
		if p := parentID(s); p != "" {
			ix.children[p] = append(ix.children[p], s)
		}
	}
	for _, spans := range ix.children {
		slices.SortStableFunc(spans, func(a, b Span) int { return cmp.Compare(a.StartTime, b.StartTime) })
	}
	return ix
}

func (ix traceIndex) service(s Span) string {
	return ix.trace.Processes[s.ProcessID].ServiceName
}

// descendants returns the spans under s, at any depth, depth first. A span
// is visited once, so references that form a loop end the walk.
func (ix traceIndex) descendants(s Span) []Span {
	var out []Span
	seen := map[string]bool{s.SpanID: true}
	var walk func(Span)
	walk = func(parent Span) {
		for _, c := range ix.children[parent.SpanID] {
			if seen[c.SpanID] {
				continue
			}
			seen[c.SpanID] = true
			out = append(out, c)
			walk(c)
		}
	}
	walk(s)
	return out
}

// parentID returns the span id of the CHILD_OF reference of s, or "" for
// a root span.
func parentID(s Span) string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// FindChain looks in t for the chain send → client → request, with the
// validation span and a storage insert span under the request. The client
// span may sit at any depth under the send span, and the validation and
// insert spans at any depth under the request span. The request span's
// parent must be the client span itself, because that is the link the W3C
// traceparent header makes. No span of the chain may have error status.
//
// FindChain returns the chain and no problems, or the candidate that came
// closest (see closer) with its problems, one per missing link or failed
// span.
func FindChain(t Trace, want Expect) (Chain, []string) {
	ix := newTraceIndex(t)

	var (
		best         Chain
		bestProblems []string
	)
	for _, send := range t.Spans {
		if send.OperationName != want.SendSpan || ix.service(send) != want.AgentService {
			continue
		}
		chain, problems := ix.chainFrom(send, want)
		if len(problems) == 0 {
			return chain, nil
		}
		if bestProblems == nil || closer(chain, problems, best, bestProblems) {
			best, bestProblems = chain, problems
		}
	}

	if bestProblems == nil {
		bestProblems = []string{fmt.Sprintf("no span %q from service %q in trace %s", want.SendSpan, want.AgentService, t.TraceID)}
	}
	return best, bestProblems
}

// closer reports whether candidate a is closer to a complete chain than b:
// it has more of the chain's spans, or as many and fewer problems.
func closer(a Chain, aProblems []string, b Chain, bProblems []string) bool {
	if a.links() != b.links() {
		return a.links() > b.links()
	}
	return len(aProblems) < len(bProblems)
}

// links counts the spans of the chain that were found.
func (c Chain) links() int {
	n := 0
	for _, s := range []Span{c.Send, c.Client, c.Request, c.Validate, c.Insert} {
		if s.SpanID != "" {
			n++
		}
	}
	return n
}

// chainFrom checks the chain that starts at the send span. The problems
// returned are ordered from the agent towards the database, and a missing
// link stops the walk.
func (ix traceIndex) chainFrom(send Span, want Expect) (Chain, []string) {
	chain := Chain{Trace: ix.trace, Send: send}
	problems := spanErrors(send, "send")

	var clients []Span
	for _, s := range ix.descendants(send) {
		if s.OperationName == want.ClientSpan && ix.service(s) == want.AgentService && tagString(s, "span.kind") == "client" {
			clients = append(clients, s)
		}
	}
	if len(clients) == 0 {
		return chain, append(problems, fmt.Sprintf("no HTTP client span %q under the agent's %q span: the agent's HTTP transport is not instrumented", want.ClientSpan, want.SendSpan))
	}

	request, client, ok := ix.findRequest(clients, want)
	if !ok {
		return chain, append(problems, fmt.Sprintf("no server span %q from service %q whose parent is the agent's %q client span: the server did not continue the agent's traceparent, or its spans did not reach Jaeger", want.RequestSpan, want.ServerService, want.ClientSpan))
	}
	chain.Client, chain.Request = client, request
	problems = append(problems, spanErrors(client, "client")...)
	problems = append(problems, spanErrors(request, "request")...)
	if code := tagString(request, "http.response.status_code"); code != fmt.Sprint(want.RequestStatus) {
		problems = append(problems, fmt.Sprintf("request span %s has http.response.status_code %q, want %d", request.SpanID, code, want.RequestStatus))
	}

	under := ix.descendants(request)
	validate, ok := firstNamed(under, want.ValidateSpan)
	if !ok {
		problems = append(problems, fmt.Sprintf("no span %q under the server's %q span", want.ValidateSpan, want.RequestSpan))
	} else {
		chain.Validate = validate
		problems = append(problems, spanErrors(validate, "validate")...)
	}

	insert, ok := firstInsert(under, want.InsertSpan)
	if !ok {
		problems = append(problems, fmt.Sprintf("no PostgreSQL span %q under the server's %q span: the server's pgx tracer is not installed, or the insert ran outside the request's context", want.InsertSpan, want.RequestSpan))
	} else {
		chain.Insert = insert
		problems = append(problems, spanErrors(insert, "insert")...)
	}
	return chain, problems
}

// findRequest returns the server span whose parent is one of the client
// spans, preferring one with the expected status, because a retried send
// has one client span per attempt.
func (ix traceIndex) findRequest(clients []Span, want Expect) (Span, Span, bool) {
	var (
		request, client Span
		found           bool
	)
	for _, c := range clients {
		for _, s := range ix.children[c.SpanID] {
			if s.OperationName != want.RequestSpan || ix.service(s) != want.ServerService || tagString(s, "span.kind") != "server" {
				continue
			}
			if tagString(s, "http.response.status_code") == fmt.Sprint(want.RequestStatus) {
				return s, c, true
			}
			if !found {
				request, client, found = s, c, true
			}
		}
	}
	return request, client, found
}

func firstNamed(spans []Span, name string) (Span, bool) {
	for _, s := range spans {
		if s.OperationName == name {
			return s, true
		}
	}
	return Span{}, false
}

// firstInsert returns the first PostgreSQL client span named name.
func firstInsert(spans []Span, name string) (Span, bool) {
	for _, s := range spans {
		if s.OperationName == name && tagString(s, "db.system.name") == "postgresql" && tagString(s, "span.kind") == "client" {
			return s, true
		}
	}
	return Span{}, false
}

// spanErrors reports a span that ended with error status.
func spanErrors(s Span, role string) []string {
	if tagString(s, "error") == "true" || tagString(s, "otel.status_code") == "ERROR" {
		return []string{fmt.Sprintf("%s span %q (%s) has error status: %s", role, s.OperationName, s.SpanID, tagString(s, "otel.status_description"))}
	}
	return nil
}

// tagString returns the value of the tag key of s as text, or "" when s has
// no such tag. Whole numbers print without a decimal point.
func tagString(s Span, key string) string {
	for _, t := range s.Tags {
		if t.Key != key {
			continue
		}
		if f, ok := t.Value.(float64); ok && f == float64(int64(f)) {
			return fmt.Sprint(int64(f))
		}
		return fmt.Sprint(t.Value)
	}
	return ""
}
