package telemetry_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// recordSomething starts and ends a span and adds to a counter.
func recordSomething(t *testing.T, tel *telemetry.Telemetry) trace.Span {
	t.Helper()
	_, span := tel.Tracer().Start(context.Background(), "work")
	span.End()

	m, err := telemetry.NewServerMetrics(tel.Meter())
	if err != nil {
		t.Fatalf("create server metrics: %v", err)
	}
	m.AddPointsIngested(context.Background(), 3)
	return span
}

func assertNoop(t *testing.T, tel *telemetry.Telemetry) {
	t.Helper()
	if _, ok := tel.TracerProvider().(tracenoop.TracerProvider); !ok {
		t.Errorf("tracer provider is %T, want the no-op one", tel.TracerProvider())
	}
	if _, ok := tel.MeterProvider().(metricnoop.MeterProvider); !ok {
		t.Errorf("meter provider is %T, want the no-op one", tel.MeterProvider())
	}
	if tel.TracesEnabled() || tel.MetricsEnabled() {
		t.Errorf("traces enabled %v, metrics enabled %v, want both false", tel.TracesEnabled(), tel.MetricsEnabled())
	}
}

func TestSetupWithoutEndpointIsNoop(t *testing.T) {
	clearOTelEnv(t)

	tel, logs := setup(t, "miniobserv-agent")

	assertNoop(t, tel)
	if _, ok := otel.GetTracerProvider().(tracenoop.TracerProvider); !ok {
		t.Errorf("global tracer provider is %T, want the no-op one", otel.GetTracerProvider())
	}
	if span := recordSomething(t, tel); span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("span is recording or has a valid context, want a no-op span")
	}
	if tel.PgxTracer() != nil {
		t.Error("pgx tracer is set, want nil so pgx skips tracing")
	}
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Errorf("force flush: %v", err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if !strings.Contains(logs.String(), "telemetry export disabled") {
		t.Errorf("log does not say export is disabled:\n%s", logs)
	}
}

func TestExportersNoneSendNothing(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	t.Setenv("OTEL_METRICS_EXPORTER", "none")

	tel, _ := setup(t, "miniobserv-server")
	recordSomething(t, tel)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	assertNoop(t, tel)
	if rcv.Requests() != 0 {
		t.Errorf("receiver got %d requests, want 0", rcv.Requests())
	}
}

func TestSDKDisabledSendsNothing(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	t.Setenv("OTEL_SDK_DISABLED", "true")

	tel, _ := setup(t, "miniobserv-server")
	recordSomething(t, tel)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	assertNoop(t, tel)
	if rcv.Requests() != 0 {
		t.Errorf("receiver got %d requests, want 0", rcv.Requests())
	}
}

func TestSetupRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name, variable, value string
	}{
		{"json protocol", "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{"signal protocol", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "thrift"},
		{"zipkin exporter", "OTEL_TRACES_EXPORTER", "zipkin"},
		{"console in a list", "OTEL_METRICS_EXPORTER", "otlp,console"},
		{"endpoint without scheme", "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
		{"signal endpoint ftp", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "ftp://collector/v1/metrics"},
		{"sdk disabled typo", "OTEL_SDK_DISABLED", "yes please"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearOTelEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
			t.Setenv(tc.variable, tc.value)

			tel, err := telemetry.Setup(context.Background(), telemetry.Options{ServiceName: "miniobserv-agent"})

			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatalf("%s=%q accepted, want an error", tc.variable, tc.value)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error %q does not name %s", err, tc.variable)
			}
		})
	}
}

func TestTracesOnlyEndpoint(t *testing.T) {
	rcv := otlptest.New(t)
	clearOTelEnv(t)
	// A per-signal endpoint is the full URL, path included.
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", rcv.URL()+"/v1/traces")

	tel, _ := setup(t, "miniobserv-server")
	recordSomething(t, tel)
	flush(t, tel)

	if !tel.TracesEnabled() {
		t.Error("traces not enabled, want enabled")
	}
	if _, ok := tel.MeterProvider().(metricnoop.MeterProvider); !ok {
		t.Errorf("meter provider is %T, want the no-op one", tel.MeterProvider())
	}
	rcv.WaitForSpans(t, otlptest.HasSpan("work"), waitTimeout)
	if points := rcv.Points(); len(points) != 0 {
		t.Errorf("receiver got %d metric points, want 0", len(points))
	}
}

func TestMetricsExporterNone(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	t.Setenv("OTEL_METRICS_EXPORTER", "none")

	tel, _ := setup(t, "miniobserv-server")
	recordSomething(t, tel)
	flush(t, tel)

	if tel.MetricsEnabled() {
		t.Error("metrics enabled, want disabled")
	}
	rcv.WaitForSpans(t, otlptest.HasSpan("work"), waitTimeout)
	if points := rcv.Points(); len(points) != 0 {
		t.Errorf("receiver got %d metric points, want 0", len(points))
	}
}

func TestGRPCProtocol(t *testing.T) {
	rcv := otlptest.New(t)
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.GRPCEndpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")

	tel, _ := setup(t, "miniobserv-agent")
	recordSomething(t, tel)
	flush(t, tel)

	rcv.WaitForSpans(t, otlptest.HasSpan("work"), waitTimeout)
	rcv.WaitForMetric(t, "miniobserv.points.ingested", nil, func(v float64) bool { return v == 3 }, waitTimeout)
}

func TestResourceAttributes(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)

	tel, _ := setup(t, "miniobserv-agent")
	recordSomething(t, tel)
	flush(t, tel)

	spans := rcv.WaitForSpans(t, otlptest.HasSpan("work"), waitTimeout)
	res := spans[0].Resource
	want := map[string]string{
		"service.name":    "miniobserv-agent",
		"service.version": "1.2.3",
		"host.name":       "host-miniobserv-agent",
	}
	for key, value := range want {
		if got, _ := res[key].(string); got != value {
			t.Errorf("resource %s = %q, want %q", key, got, value)
		}
	}
}

func TestResourceFromEnvironment(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	t.Setenv("OTEL_SERVICE_NAME", "edge-agent")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging,host.name=from-env")

	tel, _ := setup(t, "miniobserv-agent")
	recordSomething(t, tel)
	flush(t, tel)

	spans := rcv.WaitForSpans(t, otlptest.HasSpan("work"), waitTimeout)
	res := spans[0].Resource
	want := map[string]string{
		"service.name":                "edge-agent",
		"deployment.environment.name": "staging",
		"host.name":                   "from-env",
		"service.version":             "1.2.3",
	}
	for key, value := range want {
		if got, _ := res[key].(string); got != value {
			t.Errorf("resource %s = %q, want %q", key, got, value)
		}
	}
}

func TestSamplerFromEnvironment(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")

	tel, _ := setup(t, "miniobserv-agent")
	span := recordSomething(t, tel)

	if span.IsRecording() || span.SpanContext().IsSampled() {
		t.Error("span is recorded or sampled, want dropped by the always_off sampler")
	}
}

func TestGlobalsInstalled(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)

	tel, _ := setup(t, "miniobserv-server")

	if otel.GetTracerProvider() != tel.TracerProvider() {
		t.Error("global tracer provider is not the Telemetry one")
	}
	if otel.GetMeterProvider() != tel.MeterProvider() {
		t.Error("global meter provider is not the Telemetry one")
	}
	fields := otel.GetTextMapPropagator().Fields()
	for _, want := range []string{"traceparent", "tracestate", "baggage"} {
		if !slices.Contains(fields, want) {
			t.Errorf("global propagator fields %v lack %s", fields, want)
		}
	}
}

func TestNilTelemetryIsNoop(t *testing.T) {
	var tel *telemetry.Telemetry

	_, span := tel.Tracer().Start(context.Background(), "work")
	span.End()

	if span.IsRecording() {
		t.Error("span from a nil Telemetry is recording")
	}
	if tel.PgxTracer() != nil {
		t.Error("pgx tracer of a nil Telemetry is set")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestShutdownIsIdempotent(t *testing.T) {
	rcv := otlptest.New(t)
	exportTo(t, rcv)
	tel, _ := setup(t, "miniobserv-server")
	recordSomething(t, tel)

	first := tel.Shutdown(context.Background())
	second := tel.Shutdown(context.Background())

	if first != nil || second != nil {
		t.Errorf("shutdown errors = %v, %v, want nil, nil", first, second)
	}
	rcv.WaitForSpans(t, otlptest.HasSpan("work"), waitTimeout)
}

// TestShutdownWithHungCollector points the exporters at a listener that
// accepts connections and never responds. Shutdown must return on its own
// deadline. The generous context here only keeps a broken build from
// hanging the test run.
func TestShutdownWithHungCollector(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			clearOTelEnv(t)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlptest.NewBlackHole(t))
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
			tel, _ := setup(t, "miniobserv-agent")

			// End more spans than the batch queue can contain (2048 by
			// default). Ending a span must drop it rather than wait for the
			// collector.
			for range 3*2048 + 1 {
				_, span := tel.Tracer().Start(context.Background(), "work")
				span.End()
			}
			recordSomething(t, tel)

			done := make(chan error, 1)
			go func() { done <- tel.Shutdown(context.Background()) }()

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("shutdown error = %v, want the shutdown deadline to have passed", err)
				}
			case <-ctx.Done():
				t.Fatal("shutdown did not return while the collector hangs")
			}
		})
	}
}
