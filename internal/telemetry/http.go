package telemetry

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// HTTPHandler wraps h so that every request gets a server span, continuing
// the trace of an incoming W3C traceparent header, and feeds the standard
// http.server.* metrics.
//
// The span is named "{method} {route}", for example
// "POST /api/v1/metrics", from the pattern that http.ServeMux matched. The
// route is read from the request after h returns, so h must be the
// ServeMux itself or a middleware that passes the same *http.Request on.
// Otherwise the span is named after the method alone.
//
// opts are added after the package's own options, for example
// otelhttp.WithFilter to skip health probes. When neither traces nor
// metrics are exported, h is returned unchanged.
func (t *Telemetry) HTTPHandler(h http.Handler, opts ...otelhttp.Option) http.Handler {
	if !t.TracesEnabled() && !t.MetricsEnabled() {
		return h
	}
	return otelhttp.NewHandler(routeTagger{next: h}, "", append(t.otelhttpOptions(), opts...)...)
}

// routeTagger sets http.route on the server span once the ServeMux has
// matched a pattern. otelhttp renames the span from the pattern but sets
// the attribute only on its metrics.
type routeTagger struct {
	next http.Handler
}

func (rt routeTagger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.next.ServeHTTP(w, r)

	if route := routeOf(r.Pattern); route != "" {
		trace.SpanFromContext(r.Context()).SetAttributes(semconv.HTTPRoute(route))
	}
}

// routeOf returns the path part of a ServeMux pattern such as
// "POST example.com/api/v1/metrics", or "" when there is none.
func routeOf(pattern string) string {
	i := strings.IndexByte(pattern, '/')
	if i < 0 {
		return ""
	}
	return pattern[i:]
}

// HTTPTransport wraps base (nil means http.DefaultTransport) so that every
// request gets a client span named after its method and carries the W3C
// traceparent and baggage headers of the request's context. It feeds the
// standard http.client.* metrics.
//
// opts are added after the package's own options. When neither traces nor
// metrics are exported, base is returned unchanged.
func (t *Telemetry) HTTPTransport(base http.RoundTripper, opts ...otelhttp.Option) http.RoundTripper {
	if !t.TracesEnabled() && !t.MetricsEnabled() {
		return base
	}
	own := append(t.otelhttpOptions(), otelhttp.WithSpanNameFormatter(clientSpanName))
	return otelhttp.NewTransport(base, append(own, opts...)...)
}

// clientSpanName follows the HTTP client convention: the method alone,
// because the URL path may hold unbounded values.
func clientSpanName(_ string, r *http.Request) string {
	return r.Method
}

// otelhttpOptions points otelhttp at this Telemetry's providers rather than
// the globals, so two Telemetry values in one process stay apart.
func (t *Telemetry) otelhttpOptions() []otelhttp.Option {
	return []otelhttp.Option{
		otelhttp.WithTracerProvider(t.TracerProvider()),
		otelhttp.WithMeterProvider(t.MeterProvider()),
		otelhttp.WithPropagators(t.Propagator()),
	}
}
