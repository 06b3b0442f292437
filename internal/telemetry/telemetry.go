package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every tracer and meter this
// package hands out.
const ScopeName = "github.com/kamerrezz/theminidog"

// DefaultShutdownTimeout bounds Shutdown when Options.ShutdownTimeout is
// zero. It is short because telemetry must never hold up process exit.
const DefaultShutdownTimeout = 2 * time.Second

// Options configures Setup. Everything about export (endpoints, protocol,
// headers, sampler, batching) comes from the standard OTEL_* variables.
type Options struct {
	// ServiceName is the service.name resource attribute, for example
	// "miniobserv-agent". OTEL_SERVICE_NAME and a service.name in
	// OTEL_RESOURCE_ATTRIBUTES override it.
	ServiceName string

	// Version is the service.version resource attribute. Empty leaves it out.
	Version string

	// Host is the host.name resource attribute. Empty uses the OS host name.
	Host string

	// Logger receives the start-up summary and export errors. Nil uses
	// slog.Default().
	Logger *slog.Logger

	// ShutdownTimeout bounds Shutdown, whatever deadline its context has.
	// Zero uses DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Telemetry owns the tracer and meter providers of one process. A nil
// *Telemetry is valid and behaves as if no exporter were configured, so
// code under test may leave it out.
type Telemetry struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator

	// sdkTracer and sdkMeter are nil when their signal is not exported.
	sdkTracer *sdktrace.TracerProvider
	sdkMeter  *sdkmetric.MeterProvider

	shutdownTimeout time.Duration
	shutdownOnce    sync.Once
	shutdownErr     error
}

// Setup builds the tracer and meter providers from the OTEL_* environment
// variables and installs them, with the W3C TraceContext and Baggage
// propagator, as the otel globals.
//
// A signal is exported only when an OTLP endpoint is set for it
// (OTEL_EXPORTER_OTLP_ENDPOINT or the per-signal OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// and OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) and its exporter variable
// (OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER) is not none. Otherwise its
// provider is the otel no-op one, which records nothing and costs only a
// function call. OTEL_SDK_DISABLED=true turns both off.
//
// Setup returns an error for a variable it cannot honour (an unknown
// exporter or protocol, a malformed endpoint), naming the variable.
func Setup(ctx context.Context, opts Options) (*Telemetry, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}

	traces, metrics, err := readConfig()
	if err != nil {
		return nil, err
	}

	t := &Telemetry{
		tracerProvider:  tracenoop.NewTracerProvider(),
		meterProvider:   metricnoop.NewMeterProvider(),
		propagator:      propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdownTimeout: opts.ShutdownTimeout,
	}
	if t.shutdownTimeout <= 0 {
		t.shutdownTimeout = DefaultShutdownTimeout
	}

	if traces.enabled || metrics.enabled {
		if err := t.startSDK(ctx, opts, traces, metrics); err != nil {
			return nil, err
		}
		otel.SetErrorHandler(newErrorHandler(logger))
	}

	otel.SetTracerProvider(t.tracerProvider)
	otel.SetMeterProvider(t.meterProvider)
	otel.SetTextMapPropagator(t.propagator)

	logStartup(logger, traces, metrics)
	return t, nil
}

func readConfig() (traces, metrics exportConfig, err error) {
	disabled, err := sdkDisabled()
	if err != nil || disabled {
		return exportConfig{}, exportConfig{}, err
	}

	traces, err = readExportConfig(tracesSignal)
	if err != nil {
		return exportConfig{}, exportConfig{}, err
	}
	metrics, err = readExportConfig(metricsSignal)
	if err != nil {
		return exportConfig{}, exportConfig{}, err
	}
	return traces, metrics, nil
}

// startSDK replaces the no-op providers of the exported signals with SDK
// providers.
func (t *Telemetry) startSDK(ctx context.Context, opts Options, traces, metrics exportConfig) error {
	res, err := newResource(ctx, opts)
	if err != nil {
		return err
	}

	if traces.enabled {
		tp, err := newTracerProvider(ctx, res, traces.protocol)
		if err != nil {
			return err
		}
		t.sdkTracer, t.tracerProvider = tp, tp
	}

	if metrics.enabled {
		mp, err := newMeterProvider(ctx, res, metrics.protocol)
		if err != nil {
			// Stop the tracer provider's batch worker, which is already
			// running.
			if t.sdkTracer != nil {
				_ = t.sdkTracer.Shutdown(ctx)
			}
			return err
		}
		t.sdkMeter, t.meterProvider = mp, mp
	}
	return nil
}

// newResource describes this process: service.name, service.version and
// host.name, overridden by OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func newResource(ctx context.Context, opts Options) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if opts.ServiceName != "" {
		attrs = append(attrs, semconv.ServiceName(opts.ServiceName))
	}
	if opts.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(opts.Version))
	}

	resOpts := []resource.Option{
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
	}
	if opts.Host != "" {
		attrs = append(attrs, semconv.HostName(opts.Host))
	} else {
		resOpts = append(resOpts, resource.WithHost())
	}
	// Later options win, so the environment overrides the options.
	resOpts = append(resOpts, resource.WithAttributes(attrs...), resource.WithFromEnv())

	res, err := resource.New(ctx, resOpts...)
	if err != nil {
		return nil, fmt.Errorf("build telemetry resource (check OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	return res, nil
}

// TracerProvider returns the tracer provider: the SDK one when traces are
// exported, the otel no-op one otherwise.
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if t == nil {
		return tracenoop.NewTracerProvider()
	}
	return t.tracerProvider
}

// MeterProvider returns the meter provider: the SDK one when metrics are
// exported, the otel no-op one otherwise.
func (t *Telemetry) MeterProvider() metric.MeterProvider {
	if t == nil {
		return metricnoop.NewMeterProvider()
	}
	return t.meterProvider
}

// Propagator returns the W3C TraceContext and Baggage propagator.
func (t *Telemetry) Propagator() propagation.TextMapPropagator {
	if t == nil {
		return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return t.propagator
}

// Tracer returns the MiniObserv tracer.
func (t *Telemetry) Tracer() trace.Tracer {
	return t.TracerProvider().Tracer(ScopeName)
}

// Meter returns the MiniObserv meter, the one to pass to NewServerMetrics,
// NewAgentMetrics and RegisterPoolMetrics.
func (t *Telemetry) Meter() metric.Meter {
	return t.MeterProvider().Meter(ScopeName)
}

// TracesEnabled reports whether spans are exported.
func (t *Telemetry) TracesEnabled() bool {
	return t != nil && t.sdkTracer != nil
}

// MetricsEnabled reports whether metrics are exported.
func (t *Telemetry) MetricsEnabled() bool {
	return t != nil && t.sdkMeter != nil
}

// ForceFlush exports every ended span and the current metric values now,
// waiting as long as ctx allows.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}

	var errs []error
	if t.sdkTracer != nil {
		if err := t.sdkTracer.ForceFlush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush spans: %w", err))
		}
	}
	if t.sdkMeter != nil {
		if err := t.sdkMeter.ForceFlush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush metrics: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Shutdown exports what is buffered and stops the providers. It returns by
// the earlier of ctx's deadline and the shutdown timeout, even when the
// collector is unreachable or never responds. In that case the export
// still in flight is abandoned and the error wraps
// context.DeadlineExceeded. Later calls return the first call's result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.shutdownOnce.Do(func() {
		t.shutdownErr = t.shutdown(ctx)
	})
	return t.shutdownErr
}

func (t *Telemetry) shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.shutdownTimeout)
	defer cancel()

	// Both providers flush at the same time, so a hung collector costs one
	// timeout, not two.
	var (
		wg                   sync.WaitGroup
		traceErr, metricsErr error
	)
	if t.sdkTracer != nil {
		wg.Go(func() { traceErr = t.sdkTracer.Shutdown(ctx) })
	}
	if t.sdkMeter != nil {
		wg.Go(func() { metricsErr = t.sdkMeter.Shutdown(ctx) })
	}
	wg.Wait()

	var errs []error
	if traceErr != nil {
		errs = append(errs, fmt.Errorf("shut down tracer provider: %w", traceErr))
	}
	if metricsErr != nil {
		errs = append(errs, fmt.Errorf("shut down meter provider: %w", metricsErr))
	}
	return errors.Join(errs...)
}

func logStartup(logger *slog.Logger, traces, metrics exportConfig) {
	if !traces.enabled && !metrics.enabled {
		logger.Debug("telemetry export disabled", "reason", "no OTLP endpoint set or exporters set to none")
		return
	}
	logger.Info("telemetry export enabled",
		"traces", traces.enabled, "traces_endpoint", redact(traces.endpoint), "traces_protocol", traces.protocol,
		"metrics", metrics.enabled, "metrics_endpoint", redact(metrics.endpoint), "metrics_protocol", metrics.protocol)
}
