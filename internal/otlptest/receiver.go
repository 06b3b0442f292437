package otlptest

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // lets the gRPC server accept gzip-compressed exports
	"google.golang.org/protobuf/proto"
)

// maxBodyBytes bounds one decoded export request. The OTel SDKs send batches
// of at most a few megabytes, so anything larger is a broken client.
const maxBodyBytes = 64 << 20

// Receiver is an OTLP receiver listening on 127.0.0.1 over HTTP and gRPC.
// It stores what it receives until the test ends; it is safe for
// concurrent use.
type Receiver struct {
	store    store
	requests atomic.Int64
	http     *httptest.Server
	grpcAddr string
}

// New starts a receiver and stops it when the test ends.
func New(tb testing.TB) *Receiver {
	tb.Helper()
	r := &Receiver{store: newStore()}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.handleTraces)
	mux.HandleFunc("POST /v1/metrics", r.handleMetrics)
	r.http = httptest.NewServer(mux)
	tb.Cleanup(r.http.Close)

	r.grpcAddr = r.startGRPC(tb)
	return r
}

// URL returns the base URL of the OTLP/HTTP endpoint, the value for
// OTEL_EXPORTER_OTLP_ENDPOINT with the http/protobuf protocol. The
// per-signal variables take the full URL: URL()+"/v1/traces".
func (r *Receiver) URL() string {
	return r.http.URL
}

// GRPCEndpoint returns the URL of the OTLP/gRPC endpoint, the value for
// OTEL_EXPORTER_OTLP_ENDPOINT with the grpc protocol. Its http scheme makes
// the exporter connect without TLS.
func (r *Receiver) GRPCEndpoint() string {
	return "http://" + r.grpcAddr
}

// Requests returns how many export requests arrived, over both protocols,
// including ones that were rejected.
func (r *Receiver) Requests() int {
	return int(r.requests.Load())
}

// Reset deletes every stored span and data point and sets the request
// count to zero.
func (r *Receiver) Reset() {
	r.requests.Store(0)
	r.store.reset()
}

func (r *Receiver) handleTraces(w http.ResponseWriter, req *http.Request) {
	msg := &coltracepb.ExportTraceServiceRequest{}
	if !r.decode(w, req, msg) {
		return
	}
	r.store.addTraces(msg.GetResourceSpans())
	writeProto(w, &coltracepb.ExportTraceServiceResponse{})
}

func (r *Receiver) handleMetrics(w http.ResponseWriter, req *http.Request) {
	msg := &colmetricpb.ExportMetricsServiceRequest{}
	if !r.decode(w, req, msg) {
		return
	}
	r.store.addMetrics(msg.GetResourceMetrics())
	writeProto(w, &colmetricpb.ExportMetricsServiceResponse{})
}

// decode reads a protobuf export request into msg. On failure it writes the
// error response and returns false.
func (r *Receiver) decode(w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
	r.requests.Add(1)

	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, fmt.Sprintf("unsupported content type %q: send application/x-protobuf", ct), http.StatusUnsupportedMediaType)
		return false
	}

	body, err := readBody(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}

	if err := proto.Unmarshal(body, msg); err != nil {
		http.Error(w, fmt.Sprintf("decode protobuf body: %v", err), http.StatusBadRequest)
		return false
	}
	return true
}

// readBody returns the request body, gunzipped when Content-Encoding is gzip.
func readBody(req *http.Request) ([]byte, error) {
	var body io.Reader = http.MaxBytesReader(nil, req.Body, maxBodyBytes)

	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("open gzip body: %w", err)
		}
		defer zr.Close()
		body = io.LimitReader(zr, maxBodyBytes)
	default:
		return nil, fmt.Errorf("unsupported content encoding %q: send gzip or none", enc)
	}

	data, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return data, nil
}

func writeProto(w http.ResponseWriter, msg proto.Message) {
	data, err := proto.Marshal(msg)
	if err != nil {
		http.Error(w, fmt.Sprintf("encode response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(data)
}

// startGRPC serves the OTLP trace and metrics services on a loopback port
// and returns its address.
func (r *Receiver) startGRPC(tb testing.TB) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen for OTLP/gRPC: %v", err)
	}

	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, traceService{r: r})
	colmetricpb.RegisterMetricsServiceServer(srv, metricsService{r: r})

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	tb.Cleanup(func() {
		// Stop, not GracefulStop: an exporter still retrying must not hold up
		// the end of the test.
		srv.Stop()
		<-done
	})
	return lis.Addr().String()
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.r.requests.Add(1)
	s.r.store.addTraces(req.GetResourceSpans())
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	s.r.requests.Add(1)
	s.r.store.addMetrics(req.GetResourceMetrics())
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// Spans returns a copy of every span received so far, in arrival order.
func (r *Receiver) Spans() []Span {
	return r.store.spans()
}

// SpanByName returns the first received span with the given name.
func (r *Receiver) SpanByName(name string) (Span, bool) {
	for _, s := range r.store.spans() {
		if s.Name == name {
			return s, true
		}
	}
	return Span{}, false
}

// WaitForSpans blocks until pred holds for the received spans and returns
// them. The test fails if pred still does not hold after timeout.
func (r *Receiver) WaitForSpans(tb testing.TB, pred func([]Span) bool, timeout time.Duration) []Span {
	tb.Helper()
	var spans []Span
	ok := r.store.waitFor(timeout, func() bool {
		spans = r.store.spans()
		return pred(spans)
	})
	if !ok {
		tb.Fatalf("spans did not match within %s; received %d: %s", timeout, len(spans), spanNames(spans))
	}
	return spans
}

// HasSpan returns a predicate for WaitForSpans that holds once a span with
// each of the given names has arrived.
func HasSpan(names ...string) func([]Span) bool {
	return func(spans []Span) bool {
		seen := make(map[string]bool, len(spans))
		for _, s := range spans {
			seen[s.Name] = true
		}
		for _, n := range names {
			if !seen[n] {
				return false
			}
		}
		return true
	}
}

// Points returns a copy of every metric data point received so far, in
// arrival order. With cumulative temporality, the SDK default, each export
// repeats every series with its running total.
func (r *Receiver) Points() []Point {
	return r.store.points()
}

// MetricSum adds up the latest value of every series of the named metric
// whose attributes include attrs (a nil map matches every series). A series
// is one service, metric name and attribute set. The value is the running
// total for a cumulative sum, the last reading for a gauge and the sum of
// observations for a histogram. It reports false when no series matches.
//
// NOTE: with delta temporality, the latest point holds only the last
// interval, so the result is not a total.
func (r *Receiver) MetricSum(name string, attrs map[string]string) (float64, bool) {
	return r.store.metricSum(name, attrs)
}

// MetricCount adds up the latest observation count of every histogram series
// of the named metric whose attributes include attrs. It reports false when
// no series matches.
func (r *Receiver) MetricCount(name string, attrs map[string]string) (uint64, bool) {
	return r.store.metricCount(name, attrs)
}

// WaitForMetric blocks until MetricSum(name, attrs) exists and satisfies
// pred, and returns that sum. The test fails if it does not happen within
// timeout.
func (r *Receiver) WaitForMetric(tb testing.TB, name string, attrs map[string]string, pred func(float64) bool, timeout time.Duration) float64 {
	tb.Helper()
	var (
		sum   float64
		found bool
	)
	ok := r.store.waitFor(timeout, func() bool {
		sum, found = r.store.metricSum(name, attrs)
		return found && pred(sum)
	})
	if !ok {
		if found {
			tb.Fatalf("metric %s%v is %v, which did not match within %s", name, attrs, sum, timeout)
		}
		tb.Fatalf("metric %s%v did not arrive within %s; received metrics: %s", name, attrs, timeout, r.store.metricNames())
	}
	return sum
}
