// Package telemetry exports the agent's and the server's own traces and
// metrics over OTLP, configured by the standard OpenTelemetry environment
// variables.
//
// Without an OTLP endpoint nothing is exported and every provider is the
// otel no-op one, so instrumented code costs next to nothing. Export never
// stalls the instrumented code: spans wait in a bounded queue that drops
// when full, each export has a timeout, and Shutdown returns within a few
// seconds even when the collector never responds.
//
// A binary calls Setup once and Shutdown on exit:
//
//	tel, err := telemetry.Setup(ctx, telemetry.Options{
//		ServiceName: "miniobserv-server", Version: version, Logger: logger,
//	})
//	if err != nil {
//		return err
//	}
//	defer tel.Shutdown(context.Background())
//
//	metrics, err := telemetry.NewServerMetrics(tel.Meter())
//	poolCfg.ConnConfig.Tracer = tel.PgxTracer()
//	handler := tel.HTTPHandler(mux)
//
// and the agent wraps its sender's transport with tel.HTTPTransport, so the
// server's request spans continue the agent's traces.
//
// Variables read: OTEL_SDK_DISABLED; OTEL_EXPORTER_OTLP_ENDPOINT and the
// per-signal OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT; OTEL_EXPORTER_OTLP_PROTOCOL and its
// per-signal forms (http/protobuf, the default, or grpc); OTEL_TRACES_EXPORTER
// and OTEL_METRICS_EXPORTER (otlp or none); OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. The OTel SDK and exporters read the rest
// themselves: headers, compression, timeouts, TLS, OTEL_TRACES_SAMPLER and
// OTEL_TRACES_SAMPLER_ARG, OTEL_BSP_* and OTEL_METRIC_EXPORT_*.
package telemetry
