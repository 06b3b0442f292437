package otlptest

import (
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Span is one received span, flattened for assertions. Attribute values are
// string, bool, int64, float64, []byte or []any, as OTLP encodes them.
type Span struct {
	Name          string
	Kind          string // internal, server, client, producer, consumer or unspecified
	TraceID       string // lowercase hex
	SpanID        string // lowercase hex
	ParentSpanID  string // lowercase hex, empty for a root span
	Service       string // the resource's service.name
	Scope         string // the instrumentation scope name
	Resource      map[string]any
	Attributes    map[string]any
	StatusCode    string // unset, ok or error
	StatusMessage string
	Events        []Event
	Links         []Link
	Start, End    time.Time
}

// Event is one span event.
type Event struct {
	Name       string
	Attributes map[string]any
}

// Link is one span link.
type Link struct {
	TraceID, SpanID string
}

// Attr returns the span attribute key formatted with fmt.Sprint, or "" when
// the span does not have it.
func (s Span) Attr(key string) string {
	v, ok := s.Attributes[key]
	if !ok {
		return ""
	}
	return fmt.Sprint(v)
}

// Point is one received metric data point.
type Point struct {
	Metric     string
	Kind       string // sum, gauge, histogram, exponential_histogram or summary
	Unit       string
	Service    string
	Resource   map[string]any
	Attributes map[string]any
	Value      float64 // the value of a sum or gauge, the sum of a histogram or summary
	Count      uint64  // the observation count of a histogram or summary
	Time       time.Time
}

// store keeps received telemetry and wakes waiters on every change.
type store struct {
	mu       sync.Mutex
	spanLog  []Span
	pointLog []Point
	latest   map[string]Point // the newest point of each series
	changed  chan struct{}    // closed and replaced on every change
}

func newStore() store {
	return store{latest: map[string]Point{}, changed: make(chan struct{})}
}

func (s *store) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spanLog = nil
	s.pointLog = nil
	s.latest = map[string]Point{}
	s.notifyLocked()
}

func (s *store) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor calls check after every change until it returns true or timeout
// passes, and reports whether it returned true.
func (s *store) waitFor(timeout time.Duration, check func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()

		if check() {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return check()
		}
	}
}

func (s *store) addTraces(resourceSpans []*tracepb.ResourceSpans) {
	var spans []Span
	for _, rs := range resourceSpans {
		resource := resourceAttrs(rs.GetResource())
		service, _ := resource["service.name"].(string)
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				spans = append(spans, convertSpan(sp, resource, service, ss.GetScope().GetName()))
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.spanLog = append(s.spanLog, spans...)
	s.notifyLocked()
}

func convertSpan(sp *tracepb.Span, resource map[string]any, service, scope string) Span {
	out := Span{
		Name:          sp.GetName(),
		Kind:          spanKind(sp.GetKind()),
		TraceID:       hex.EncodeToString(sp.GetTraceId()),
		SpanID:        hex.EncodeToString(sp.GetSpanId()),
		ParentSpanID:  hex.EncodeToString(sp.GetParentSpanId()),
		Service:       service,
		Scope:         scope,
		Resource:      resource,
		Attributes:    attrMap(sp.GetAttributes()),
		StatusCode:    statusCode(sp.GetStatus().GetCode()),
		StatusMessage: sp.GetStatus().GetMessage(),
		Start:         time.Unix(0, int64(sp.GetStartTimeUnixNano())),
		End:           time.Unix(0, int64(sp.GetEndTimeUnixNano())),
	}
	for _, e := range sp.GetEvents() {
		out.Events = append(out.Events, Event{Name: e.GetName(), Attributes: attrMap(e.GetAttributes())})
	}
	for _, l := range sp.GetLinks() {
		out.Links = append(out.Links, Link{TraceID: hex.EncodeToString(l.GetTraceId()), SpanID: hex.EncodeToString(l.GetSpanId())})
	}
	return out
}

func spanKind(k tracepb.Span_SpanKind) string {
	switch k {
	case tracepb.Span_SPAN_KIND_INTERNAL:
		return "internal"
	case tracepb.Span_SPAN_KIND_SERVER:
		return "server"
	case tracepb.Span_SPAN_KIND_CLIENT:
		return "client"
	case tracepb.Span_SPAN_KIND_PRODUCER:
		return "producer"
	case tracepb.Span_SPAN_KIND_CONSUMER:
		return "consumer"
	default:
		return "unspecified"
	}
}

func statusCode(c tracepb.Status_StatusCode) string {
	switch c {
	case tracepb.Status_STATUS_CODE_OK:
		return "ok"
	case tracepb.Status_STATUS_CODE_ERROR:
		return "error"
	default:
		return "unset"
	}
}

func (s *store) addMetrics(resourceMetrics []*metricpb.ResourceMetrics) {
	var points []Point
	for _, rm := range resourceMetrics {
		resource := resourceAttrs(rm.GetResource())
		service, _ := resource["service.name"].(string)
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				points = append(points, convertMetric(m, resource, service)...)
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.pointLog = append(s.pointLog, points...)
	for _, p := range points {
		key := seriesKey(p)
		if old, ok := s.latest[key]; !ok || !p.Time.Before(old.Time) {
			s.latest[key] = p
		}
	}
	s.notifyLocked()
}

// convertMetric flattens the data points of one metric.
func convertMetric(m *metricpb.Metric, resource map[string]any, service string) []Point {
	base := Point{Metric: m.GetName(), Unit: m.GetUnit(), Service: service, Resource: resource}
	var out []Point

	number := func(kind string, dps []*metricpb.NumberDataPoint) {
		for _, dp := range dps {
			p := base
			p.Kind = kind
			p.Attributes = attrMap(dp.GetAttributes())
			p.Time = time.Unix(0, int64(dp.GetTimeUnixNano()))
			switch v := dp.GetValue().(type) {
			case *metricpb.NumberDataPoint_AsInt:
				p.Value = float64(v.AsInt)
			case *metricpb.NumberDataPoint_AsDouble:
				p.Value = v.AsDouble
			}
			out = append(out, p)
		}
	}

	switch data := m.GetData().(type) {
	case *metricpb.Metric_Sum:
		number("sum", data.Sum.GetDataPoints())
	case *metricpb.Metric_Gauge:
		number("gauge", data.Gauge.GetDataPoints())
	case *metricpb.Metric_Histogram:
		for _, dp := range data.Histogram.GetDataPoints() {
			out = append(out, distribution(base, "histogram", dp.GetAttributes(), dp.GetTimeUnixNano(), dp.GetSum(), dp.GetCount()))
		}
	case *metricpb.Metric_ExponentialHistogram:
		for _, dp := range data.ExponentialHistogram.GetDataPoints() {
			out = append(out, distribution(base, "exponential_histogram", dp.GetAttributes(), dp.GetTimeUnixNano(), dp.GetSum(), dp.GetCount()))
		}
	case *metricpb.Metric_Summary:
		for _, dp := range data.Summary.GetDataPoints() {
			out = append(out, distribution(base, "summary", dp.GetAttributes(), dp.GetTimeUnixNano(), dp.GetSum(), dp.GetCount()))
		}
	}
	return out
}

func distribution(base Point, kind string, attrs []*commonpb.KeyValue, unixNano uint64, sum float64, count uint64) Point {
	base.Kind = kind
	base.Attributes = attrMap(attrs)
	base.Time = time.Unix(0, int64(unixNano))
	base.Value = sum
	base.Count = count
	return base
}

// seriesKey identifies a series: service, metric name and attribute set.
func seriesKey(p Point) string {
	keys := make([]string, 0, len(p.Attributes))
	for k := range p.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var b strings.Builder
	b.WriteString(p.Service)
	b.WriteByte('\x00')
	b.WriteString(p.Metric)
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s=%v", k, p.Attributes[k])
	}
	return b.String()
}

func (s *store) matching(name string, attrs map[string]string) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Point
	for _, p := range s.latest {
		if p.Metric == name && hasAttrs(p.Attributes, attrs) {
			out = append(out, p)
		}
	}
	return out
}

func hasAttrs(have map[string]any, want map[string]string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || fmt.Sprint(got) != v {
			return false
		}
	}
	return true
}

func (s *store) metricSum(name string, attrs map[string]string) (float64, bool) {
	points := s.matching(name, attrs)
	var sum float64
	for _, p := range points {
		sum += p.Value
	}
	return sum, len(points) > 0
}

func (s *store) metricCount(name string, attrs map[string]string) (uint64, bool) {
	points := s.matching(name, attrs)
	var count uint64
	for _, p := range points {
		count += p.Count
	}
	return count, len(points) > 0
}

func (s *store) metricNames() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, p := range s.latest {
		seen[p.Metric] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (s *store) spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.spanLog)
}

func (s *store) points() []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pointLog)
}

func spanNames(spans []Span) string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = fmt.Sprintf("%q(%s)", s.Name, s.Service)
	}
	return strings.Join(names, ", ")
}

func resourceAttrs(r *resourcepb.Resource) map[string]any {
	return attrMap(r.GetAttributes())
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		out[kv.GetKey()] = anyValue(kv.GetValue())
	}
	return out
}

func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return x.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		items := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, item := range x.ArrayValue.GetValues() {
			items = append(items, anyValue(item))
		}
		return items
	case *commonpb.AnyValue_KvlistValue:
		return attrMap(x.KvlistValue.GetValues())
	default:
		return nil
	}
}
