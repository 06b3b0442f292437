// Command tracecheck polls Jaeger's HTTP query API until it finds one
// MiniObserv ingest trace that runs from the agent through the server to
// PostgreSQL with correct parent links, then prints that trace as a tree.
//
// It exits with status 0 when it finds such a trace, 1 when none appears
// within -timeout (printing what the closest trace lacked), and 2 on a bad
// flag. scripts/e2e-jaeger.sh runs it against a Jaeger it started.
//
// Usage:
//
//	tracecheck -query http://127.0.0.1:16686 -timeout 90s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// pollInterval is the wait between two searches of the query API.
const pollInterval = time.Second

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tracecheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	query := fs.String("query", "http://127.0.0.1:16686", "base URL of Jaeger's HTTP query API")
	timeout := fs.Duration("timeout", 90*time.Second, "how long to wait for a complete trace")
	var want Expect
	fs.StringVar(&want.AgentService, "agent-service", "miniobserv-agent", "service.name of the agent")
	fs.StringVar(&want.ServerService, "server-service", "miniobserv-server", "service.name of the server")
	fs.StringVar(&want.SendSpan, "send-span", "send metrics batch", "name of the agent's span around one batch send")
	fs.StringVar(&want.ClientSpan, "client-span", "POST", "name of the agent's HTTP client span")
	fs.StringVar(&want.RequestSpan, "request-span", "POST /api/v1/metrics", "name of the server's request span")
	fs.StringVar(&want.ValidateSpan, "validate-span", "validate batch", "name of the server's validation span")
	fs.StringVar(&want.InsertSpan, "insert-span", "COPY metrics", "name of the PostgreSQL span that stores the points")
	fs.IntVar(&want.RequestStatus, "status", http.StatusAccepted, "HTTP status of an accepted batch")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "tracecheck: -timeout %s: use a positive duration such as 90s\n", *timeout)
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client := queryClient{base: *query, http: &http.Client{Timeout: 10 * time.Second}}

	chain, problems, err := poll(ctx, client, want)
	if err == nil {
		fmt.Fprintf(stdout, "PASS: trace %s runs from %s through %s to PostgreSQL (%d spans)\n",
			chain.Trace.TraceID, want.AgentService, want.ServerService, len(chain.Trace.Spans))
		printTree(stdout, chain)
		return 0
	}

	fmt.Fprintf(stdout, "FAIL: no complete ingest trace in Jaeger at %s within %s: %v\n", *query, *timeout, err)
	for _, p := range problems {
		fmt.Fprintf(stdout, "  - %s\n", p)
	}
	return 1
}

// poll searches for the chain until it is found or ctx ends. On failure it
// returns the problems of the closest trace seen, or a reason when no
// trace came at all.
func poll(ctx context.Context, c queryClient, want Expect) (Chain, []string, error) {
	var (
		closest  Chain
		problems []string
		lastErr  error
	)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()

	for {
		traces, err := c.findTraces(ctx, want.AgentService, want.SendSpan)
		lastErr = err
		for _, t := range traces {
			chain, p := FindChain(t, want)
			if p == nil {
				return chain, nil, nil
			}
			if problems == nil || closer(chain, p, closest, problems) {
				closest, problems = chain, p
			}
		}

		select {
		case <-ctx.Done():
			return Chain{}, problems, explain(c, want, problems, lastErr)
		case <-ticker.C:
		}
	}
}

// explain returns why polling ended without a chain: a query error, no spans
// from a service at all, or an incomplete trace.
func explain(c queryClient, want Expect, problems []string, lastErr error) error {
	if len(problems) > 0 {
		return errors.New("the closest trace has these problems")
	}
	if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) {
		return lastErr
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	services, err := c.services(ctx)
	if err != nil {
		return fmt.Errorf("no trace with a %q span, and listing services failed: %w", want.SendSpan, err)
	}
	return fmt.Errorf("no trace with a %q span from %s; services that sent spans: [%s]",
		want.SendSpan, want.AgentService, strings.Join(services, ", "))
}

// printTree prints every span of the chain's trace, indented under its
// parent, with its service, duration and the attributes that matter for
// ingest. The spans of the chain are marked with *.
func printTree(w io.Writer, chain Chain) {
	ix := newTraceIndex(chain.Trace)
	marked := map[string]bool{
		chain.Send.SpanID: true, chain.Client.SpanID: true, chain.Request.SpanID: true,
		chain.Validate.SpanID: true, chain.Insert.SpanID: true,
	}

	var roots []Span
	for _, s := range chain.Trace.Spans {
		if _, ok := ix.byID[parentID(s)]; !ok {
			roots = append(roots, s)
		}
	}

	seen := map[string]bool{}
	var walk func(Span, int)
	walk = func(s Span, depth int) {
		if seen[s.SpanID] {
			return
		}
		seen[s.SpanID] = true

		mark := " "
		if marked[s.SpanID] {
			mark = "*"
		}
		fmt.Fprintf(w, "  %s %-20s %s%-*s %9s  %s\n", mark, ix.service(s), strings.Repeat("  ", depth),
			max(1, 34-2*depth), s.OperationName, formatMicros(s.Duration), describe(s))
		for _, c := range ix.children[s.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
}

// describe returns the attributes of s worth a glance: kind, HTTP status,
// route, and for database spans the table and batch size.
func describe(s Span) string {
	var parts []string
	for _, key := range []string{"span.kind", "http.response.status_code", "http.route", "db.collection.name", "miniobserv.batch.items"} {
		if v := tagString(s, key); v != "" {
			parts = append(parts, key+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

func formatMicros(us int64) string {
	return (time.Duration(us) * time.Microsecond).String()
}
