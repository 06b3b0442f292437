package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// defaultExportTimeout bounds one export, retries included, unless
// OTEL_BSP_EXPORT_TIMEOUT or OTEL_METRIC_EXPORT_TIMEOUT sets another value.
// The SDK default is 30 s. With a shorter bound, a hung collector holds the
// batch worker for less time. Meanwhile new spans are dropped from the
// bounded queue (OTEL_BSP_MAX_QUEUE_SIZE, 2048 by default) instead of
// blocking callers.
const defaultExportTimeout = 5 * time.Second

// newTracerProvider builds an SDK tracer provider that exports over OTLP
// through a batch span processor. The exporter reads its endpoint,
// headers, compression, timeout and TLS settings from the OTEL_EXPORTER_OTLP_*
// variables. The provider reads OTEL_TRACES_SAMPLER and its argument, and
// the processor reads OTEL_BSP_*.
func newTracerProvider(ctx context.Context, res *resource.Resource, protocol string) (*sdktrace.TracerProvider, error) {
	var (
		exporter sdktrace.SpanExporter
		err      error
	)
	if protocol == protocolGRPC {
		exporter, err = otlptracegrpc.New(ctx)
	} else {
		exporter, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("create OTLP trace exporter (%s): %w", protocol, err)
	}

	var bspOpts []sdktrace.BatchSpanProcessorOption
	if !envSet("OTEL_BSP_EXPORT_TIMEOUT") {
		bspOpts = append(bspOpts, sdktrace.WithExportTimeout(defaultExportTimeout))
	}

	return sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exporter, bspOpts...),
	), nil
}

// newMeterProvider builds an SDK meter provider with a periodic reader
// that exports over OTLP. The reader reads OTEL_METRIC_EXPORT_INTERVAL
// (60 s by default) and OTEL_METRIC_EXPORT_TIMEOUT.
func newMeterProvider(ctx context.Context, res *resource.Resource, protocol string) (*sdkmetric.MeterProvider, error) {
	var (
		exporter sdkmetric.Exporter
		err      error
	)
	if protocol == protocolGRPC {
		exporter, err = otlpmetricgrpc.New(ctx)
	} else {
		exporter, err = otlpmetrichttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("create OTLP metric exporter (%s): %w", protocol, err)
	}

	var readerOpts []sdkmetric.PeriodicReaderOption
	if !envSet("OTEL_METRIC_EXPORT_TIMEOUT") {
		readerOpts = append(readerOpts, sdkmetric.WithTimeout(defaultExportTimeout))
	}

	return sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exporter, readerOpts...)),
	), nil
}

// redact hides a password in an endpoint URL before it is logged.
func redact(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Redacted()
}
