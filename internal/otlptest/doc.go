// Package otlptest runs an in-process OTLP receiver for tests, so telemetry
// code can be checked end to end against real exporters instead of mocks.
//
// New starts an OTLP/HTTP endpoint (POST /v1/traces and /v1/metrics,
// protobuf, optionally gzip) and an OTLP/gRPC endpoint, both on 127.0.0.1.
// Every span and metric data point received is decoded and kept in memory.
// The Wait helpers block until a predicate holds. Each export wakes them, so
// they do not poll.
//
//	rcv := otlptest.New(t)
//	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL())
//	// ... set up telemetry, record spans, force a flush ...
//	rcv.WaitForSpans(t, otlptest.HasSpan("POST /api/v1/metrics"), 10*time.Second)
//
// NewBlackHole starts a listener that accepts TCP connections and never
// responds, to test and measure what happens when a collector hangs.
package otlptest
