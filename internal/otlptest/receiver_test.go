package otlptest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/kamerrezz/theminidog/internal/otlptest"
)

const waitTimeout = 10 * time.Second

func newTracerProvider(t *testing.T, exporter sdktrace.SpanExporter) *sdktrace.TracerProvider {
	t.Helper()
	res := resource.NewSchemaless(attribute.String("service.name", "otlptest-client"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp
}

// recordParentAndChild ends a root span and a child span and returns the
// span context of the root.
func recordParentAndChild(tp trace.TracerProvider) trace.SpanContext {
	tracer := tp.Tracer("otlptest")
	ctx, parent := tracer.Start(context.Background(), "parent", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tracer.Start(ctx, "child", trace.WithAttributes(attribute.Int("items", 3), attribute.String("mode", "fast")))
	child.End()
	parent.End()
	return parent.SpanContext()
}

func checkParentAndChild(t *testing.T, rcv *otlptest.Receiver, parentCtx trace.SpanContext) {
	t.Helper()
	rcv.WaitForSpans(t, otlptest.HasSpan("parent", "child"), waitTimeout)

	parent, _ := rcv.SpanByName("parent")
	child, _ := rcv.SpanByName("child")
	if parent.TraceID != parentCtx.TraceID().String() {
		t.Errorf("parent trace id = %s, want %s", parent.TraceID, parentCtx.TraceID())
	}
	if parent.ParentSpanID != "" {
		t.Errorf("parent has parent span id %q, want none", parent.ParentSpanID)
	}
	if child.ParentSpanID != parent.SpanID {
		t.Errorf("child parent span id = %q, want %q", child.ParentSpanID, parent.SpanID)
	}
	if parent.Kind != "server" {
		t.Errorf("parent kind = %q, want server", parent.Kind)
	}
	if child.Service != "otlptest-client" {
		t.Errorf("child service = %q, want otlptest-client", child.Service)
	}
	if got := child.Attr("items"); got != "3" {
		t.Errorf("child items attribute = %q, want 3", got)
	}
	if got := child.Attr("mode"); got != "fast" {
		t.Errorf("child mode attribute = %q, want fast", got)
	}
}

func TestReceiverHTTPTraces(t *testing.T) {
	rcv := otlptest.New(t)
	exporter, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(rcv.URL()+"/v1/traces"))
	if err != nil {
		t.Fatalf("create exporter: %v", err)
	}

	parentCtx := recordParentAndChild(newTracerProvider(t, exporter))

	checkParentAndChild(t, rcv, parentCtx)
	if rcv.Requests() != 2 {
		t.Errorf("requests = %d, want 2 (one per span with a synchronous exporter)", rcv.Requests())
	}
}

func TestReceiverHTTPGzip(t *testing.T) {
	rcv := otlptest.New(t)
	exporter, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpointURL(rcv.URL()+"/v1/traces"),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
	if err != nil {
		t.Fatalf("create exporter: %v", err)
	}

	parentCtx := recordParentAndChild(newTracerProvider(t, exporter))

	checkParentAndChild(t, rcv, parentCtx)
}

func TestReceiverGRPCTraces(t *testing.T) {
	rcv := otlptest.New(t)
	exporter, err := otlptracegrpc.New(context.Background(),
		otlptracegrpc.WithEndpointURL(rcv.GRPCEndpoint()),
		otlptracegrpc.WithCompressor("gzip"))
	if err != nil {
		t.Fatalf("create exporter: %v", err)
	}

	parentCtx := recordParentAndChild(newTracerProvider(t, exporter))

	checkParentAndChild(t, rcv, parentCtx)
}

func TestReceiverCumulativeSum(t *testing.T) {
	rcv := otlptest.New(t)
	ctx := context.Background()
	exporter, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(rcv.URL()+"/v1/metrics"))
	if err != nil {
		t.Fatalf("create exporter: %v", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exporter)))
	t.Cleanup(func() { _ = mp.Shutdown(ctx) })

	counter, err := mp.Meter("otlptest").Int64Counter("requests")
	if err != nil {
		t.Fatalf("create counter: %v", err)
	}
	get := metric.WithAttributes(attribute.String("method", "GET"))
	post := metric.WithAttributes(attribute.String("method", "POST"))

	counter.Add(ctx, 5, get)
	counter.Add(ctx, 1, post)
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatalf("first flush: %v", err)
	}
	counter.Add(ctx, 7, get)
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatalf("second flush: %v", err)
	}

	// Each export repeats the running total, so the latest point counts
	// and earlier ones must not be added again.
	got := rcv.WaitForMetric(t, "requests", map[string]string{"method": "GET"}, func(v float64) bool { return v == 12 }, waitTimeout)
	if got != 12 {
		t.Errorf("GET requests = %v, want 12", got)
	}
	all, ok := rcv.MetricSum("requests", nil)
	if !ok || all != 13 {
		t.Errorf("all requests = %v (found %v), want 13", all, ok)
	}
	if _, ok := rcv.MetricSum("requests", map[string]string{"method": "PUT"}); ok {
		t.Error("PUT requests found, want no series")
	}
	if n := len(rcv.Points()); n != 4 {
		t.Errorf("points = %d, want 4 (two series in each of two exports)", n)
	}
}

func TestReceiverRejectsJSON(t *testing.T) {
	rcv := otlptest.New(t)

	resp, err := http.Post(rcv.URL()+"/v1/traces", "application/json", bytes.NewBufferString(`{"resourceSpans":[]}`))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("status = %d, want 415", resp.StatusCode)
	}
	if len(rcv.Spans()) != 0 {
		t.Errorf("spans = %d, want 0", len(rcv.Spans()))
	}
}

func TestReceiverRejectsBadProtobuf(t *testing.T) {
	rcv := otlptest.New(t)

	resp, err := http.Post(rcv.URL()+"/v1/metrics", "application/x-protobuf", bytes.NewBufferString("\xff\xff\xff"))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", resp.StatusCode)
	}
}

func TestReceiverReset(t *testing.T) {
	rcv := otlptest.New(t)
	exporter, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(rcv.URL()+"/v1/traces"))
	if err != nil {
		t.Fatalf("create exporter: %v", err)
	}
	recordParentAndChild(newTracerProvider(t, exporter))
	rcv.WaitForSpans(t, otlptest.HasSpan("parent", "child"), waitTimeout)

	rcv.Reset()

	if len(rcv.Spans()) != 0 || rcv.Requests() != 0 {
		t.Errorf("after reset: %d spans, %d requests, want 0 and 0", len(rcv.Spans()), rcv.Requests())
	}
}

func TestBlackHoleNeverAnswers(t *testing.T) {
	endpoint := otlptest.NewBlackHole(t)

	// The deadline only ends the wait; the check is that no response came.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/v1/traces", bytes.NewBufferString("x"))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got response %d, want none", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want the request deadline (the connection must be accepted, not refused)", err)
	}
}
