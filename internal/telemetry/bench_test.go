package telemetry_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// benchSpans starts and ends one span with two attributes per iteration,
// the shape of a collect or send span.
func benchSpans(b *testing.B, tel *telemetry.Telemetry) {
	tracer := tel.Tracer()
	ctx := context.Background()
	attrs := trace.WithAttributes(attribute.String("collector", "cpu"), attribute.Int("points", 9))

	b.ReportAllocs()
	for b.Loop() {
		_, span := tracer.Start(ctx, "collect", attrs)
		span.End()
	}
}

// BenchmarkSpanNoop measures a span when no endpoint is set.
func BenchmarkSpanNoop(b *testing.B) {
	clearOTelEnv(b)
	tel, _ := setup(b, "miniobserv-agent")

	benchSpans(b, tel)
}

// BenchmarkSpanExporting measures a span exported to a local OTLP/HTTP
// receiver. Only the caller's cost is timed: export runs on the batch
// processor's goroutine, and spans beyond its queue are dropped.
func BenchmarkSpanExporting(b *testing.B) {
	rcv := otlptest.New(b)
	exportTo(b, rcv)
	tel, _ := setup(b, "miniobserv-agent")

	benchSpans(b, tel)
}

func benchCounter(b *testing.B, tel *telemetry.Telemetry) {
	m, err := telemetry.NewServerMetrics(tel.Meter())
	if err != nil {
		b.Fatalf("create server metrics: %v", err)
	}
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		m.AddPointsRejected(ctx, telemetry.RejectInvalid, 1)
	}
}

// BenchmarkCounterNoop measures a counter increment when no endpoint is set.
func BenchmarkCounterNoop(b *testing.B) {
	clearOTelEnv(b)
	tel, _ := setup(b, "miniobserv-server")

	benchCounter(b, tel)
}

// BenchmarkCounterExporting measures a counter increment with metrics
// exported to a local OTLP/HTTP receiver.
func BenchmarkCounterExporting(b *testing.B) {
	rcv := otlptest.New(b)
	exportTo(b, rcv)
	tel, _ := setup(b, "miniobserv-server")

	benchCounter(b, tel)
}
