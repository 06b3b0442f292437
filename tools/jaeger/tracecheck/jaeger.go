package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxResponseBytes bounds one query API response. findTraces requests at
// most 50 traces, and an ingest trace has about ten spans, so a real
// response stays far below it.
const maxResponseBytes = 64 << 20

// Trace is one trace as Jaeger's query API returns it (GET /api/traces).
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Span is one span of a Trace. StartTime is in microseconds since the Unix
// epoch and Duration in microseconds.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []Tag       `json:"tags"`
	ProcessID     string      `json:"processID"`
}

// Reference links a span to another span, its parent for CHILD_OF.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Tag is a span or process attribute. Value is a string, a bool or a
// float64, as JSON decodes it.
type Tag struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Process is the resource of the spans that name it: the service name and
// the resource attributes.
type Process struct {
	ServiceName string `json:"serviceName"`
	Tags        []Tag  `json:"tags"`
}

// apiResponse is the envelope of every query API response.
type apiResponse[T any] struct {
	Data   T `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

// queryClient reads Jaeger's HTTP query API at base, for example
// http://127.0.0.1:16686.
type queryClient struct {
	base string
	http *http.Client
}

// findTraces returns the traces of the last hour that contain a span named
// operation from service, whole, with the spans of every other service.
func (c queryClient) findTraces(ctx context.Context, service, operation string) ([]Trace, error) {
	q := url.Values{}
	q.Set("service", service)
	q.Set("operation", operation)
	q.Set("lookback", "1h")
	q.Set("limit", "50")

	var traces []Trace
	err := c.get(ctx, "/api/traces?"+q.Encode(), &traces)
	return traces, err
}

// services returns the names of the services that have sent spans.
func (c queryClient) services(ctx context.Context) ([]string, error) {
	var names []string
	err := c.get(ctx, "/api/services", &names)
	return names, err
}

func (c queryClient) get(ctx context.Context, path string, data any) error {
	target := strings.TrimSuffix(c.base, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("query %s: %w", target, err)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("query %s: %w", target, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read response of %s: %w", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("query %s: status %d: %s", target, resp.StatusCode, truncate(string(body), 200))
	}

	envelope := apiResponse[json.RawMessage]{}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("decode response of %s: %w", target, err)
	}
	if len(envelope.Errors) > 0 {
		return fmt.Errorf("query %s: %s", target, envelope.Errors[0].Msg)
	}
	if len(envelope.Data) == 0 || string(envelope.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(envelope.Data, data); err != nil {
		return fmt.Errorf("decode data of %s: %w", target, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
