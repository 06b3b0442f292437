package browsertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// Host is one entry of GET /api/v1/hosts.
type Host struct {
	Name   string
	Status string
	// LastSeen is the zero time for a host never seen; the response then has
	// "last_seen": null.
	LastSeen time.Time
	// IntervalSeconds is the host's collection interval; 0 leaves the field
	// out of the response.
	IntervalSeconds float64
}

// Sample is one stored metric point, as an agent sent it.
type Sample struct {
	Host   string
	Name   string
	Labels map[string]string
	Time   time.Time
	Value  float64
}

// LogEntry is one stored log record.
type LogEntry struct {
	ID      int64
	Time    time.Time
	Host    string
	Path    string
	Level   string
	Message string
}

// AlertRule is the rule part of an alert.
type AlertRule struct {
	ID        string            `json:"id"`
	Host      string            `json:"host"`
	Name      string            `json:"name"`
	Op        string            `json:"op"`
	Threshold float64           `json:"threshold"`
	For       string            `json:"for"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Alert is one entry of GET /api/v1/alerts.
type Alert struct {
	ID        string            `json:"id"`
	Rule      AlertRule         `json:"rule"`
	Host      string            `json:"host"`
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels"`
	State     string            `json:"state"`
	Value     float64           `json:"value"`
	Threshold float64           `json:"threshold"`
	Since     time.Time         `json:"since"`
	For       string            `json:"for"`
}

// Dataset is everything the fake server stores.
type Dataset struct {
	Hosts   []Host
	Samples []Sample
	Logs    []LogEntry
	Alerts  []Alert
}

// Buckets are the bucket lengths the query API accepts.
var Buckets = map[string]time.Duration{
	"1m":  time.Minute,
	"5m":  5 * time.Minute,
	"15m": 15 * time.Minute,
	"1h":  time.Hour,
	"1d":  24 * time.Hour,
}

// MaxQuerySpan is the longest from–to span a metrics query may ask for.
const MaxQuerySpan = 30 * 24 * time.Hour

// FakeAPI serves the read API from a Dataset. Hosts and alerts can be
// replaced while it runs. It aggregates samples as the server does. Buckets
// start at multiples of the bucket length since the Unix epoch, "from" is
// inclusive and "to" exclusive. Without label filters a query returns the
// host-level series: cpu core "total", net summed over interfaces per
// timestamp, disk mount "/".
type FakeAPI struct {
	mu   sync.Mutex
	data Dataset
	mux  *http.ServeMux
}

// NewFakeAPI serves data. The caller must not change data afterwards.
func NewFakeAPI(data Dataset) *FakeAPI {
	f := &FakeAPI{data: data, mux: http.NewServeMux()}
	f.mux.HandleFunc("GET /api/v1/hosts", f.hosts)
	f.mux.HandleFunc("GET /api/v1/alerts", f.alerts)
	f.mux.HandleFunc("GET /api/v1/series", f.series)
	f.mux.HandleFunc("GET /api/v1/metrics/query", f.metrics)
	f.mux.HandleFunc("GET /api/v1/logs/query", f.logs)
	return f
}

func (f *FakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mux.ServeHTTP(w, r)
}

// SetHosts replaces the host list.
func (f *FakeAPI) SetHosts(hosts []Host) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data.Hosts = slices.Clone(hosts)
}

// SetAlerts replaces the alert list.
func (f *FakeAPI) SetAlerts(alerts []Alert) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data.Alerts = slices.Clone(alerts)
}

func (f *FakeAPI) snapshot() Dataset {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.data
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (f *FakeAPI) hosts(w http.ResponseWriter, _ *http.Request) {
	type hostJSON struct {
		Host            string     `json:"host"`
		Status          string     `json:"status"`
		LastSeen        *time.Time `json:"last_seen"`
		IntervalSeconds float64    `json:"interval_seconds,omitempty"`
	}
	out := []hostJSON{}
	for _, h := range f.snapshot().Hosts {
		entry := hostJSON{Host: h.Name, Status: h.Status, IntervalSeconds: h.IntervalSeconds}
		if !h.LastSeen.IsZero() {
			seen := h.LastSeen.UTC()
			entry.LastSeen = &seen
		}
		out = append(out, entry)
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": out})
}

func (f *FakeAPI) alerts(w http.ResponseWriter, _ *http.Request) {
	alerts := f.snapshot().Alerts
	if alerts == nil {
		alerts = []Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
}

// series serves GET /api/v1/series with the distinct label sets stored
// for a host's metric: {"host", "name", "series": [{"labels": {...}}]}.
func (f *FakeAPI) series(w http.ResponseWriter, r *http.Request) {
	host, name := r.URL.Query().Get("host"), r.URL.Query().Get("name")
	if host == "" || !model.IsKnownMetric(name) {
		writeError(w, http.StatusBadRequest, "host and name (an allowlisted metric) are required")
		return
	}

	seen := map[string]map[string]string{}
	for _, s := range f.snapshot().Samples {
		if s.Host == host && s.Name == name {
			seen[labelKey(s.Labels)] = s.Labels
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	type labelSet struct {
		Labels map[string]string `json:"labels"`
	}
	out := []labelSet{}
	for _, k := range keys {
		out = append(out, labelSet{Labels: seen[k]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"host": host, "name": name, "series": out})
}

func labelKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + labels[k] + ";")
	}
	return b.String()
}

// Point is one bucket of a query response.
type Point struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// metricQuery is a parsed GET /api/v1/metrics/query.
type metricQuery struct {
	host, name, agg, groupBy string
	bucket                   time.Duration
	bucketName               string
	from, to                 time.Time
	filters                  map[string]string
}

func parseMetricQuery(r *http.Request) (metricQuery, error) {
	q := r.URL.Query()
	mq := metricQuery{host: q.Get("host"), name: q.Get("name"), agg: q.Get("agg"), groupBy: q.Get("group_by"), bucketName: q.Get("bucket"), filters: map[string]string{}}

	if mq.host == "" {
		return mq, fmt.Errorf("host: required")
	}
	if !model.IsKnownMetric(mq.name) {
		return mq, fmt.Errorf("name: %q is not an allowlisted metric", mq.name)
	}
	if mq.bucketName == "" {
		mq.bucketName = "1m"
	}
	bucket, ok := Buckets[mq.bucketName]
	if !ok {
		return mq, fmt.Errorf("bucket: %q is not one of 1m 5m 15m 1h 1d", mq.bucketName)
	}
	mq.bucket = bucket
	if mq.agg == "" {
		mq.agg = "avg"
	}
	if !slices.Contains([]string{"avg", "min", "max", "sum"}, mq.agg) {
		return mq, fmt.Errorf("agg: %q is not one of avg min max sum", mq.agg)
	}

	var err error
	if mq.from, err = time.Parse(time.RFC3339, q.Get("from")); err != nil {
		return mq, fmt.Errorf("from: %w", err)
	}
	if mq.to, err = time.Parse(time.RFC3339, q.Get("to")); err != nil {
		return mq, fmt.Errorf("to: %w", err)
	}
	if !mq.to.After(mq.from) || mq.to.Sub(mq.from) > MaxQuerySpan {
		return mq, fmt.Errorf("from, to: the span must be positive and at most 30 days")
	}

	for key, values := range q {
		if label, ok := strings.CutPrefix(key, "label."); ok {
			mq.filters[label] = values[0]
		}
	}
	return mq, nil
}

func (f *FakeAPI) metrics(w http.ResponseWriter, r *http.Request) {
	mq, err := parseMetricQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}

	samples := selectSamples(f.snapshot().Samples, mq)
	if len(mq.filters) == 0 && mq.groupBy == "" {
		if err := applyHostLevel(&samples, mq); err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
	}

	body := map[string]any{"host": mq.host, "name": mq.name, "bucket": mq.bucketName, "agg": mq.agg}
	if mq.groupBy == "" {
		body["points"] = Aggregate(samples, mq.bucket, mq.agg)
		writeJSON(w, http.StatusOK, body)
		return
	}

	groups := map[string][]Sample{}
	for _, s := range samples {
		if value, ok := s.Labels[mq.groupBy]; ok {
			groups[value] = append(groups[value], s)
		}
	}
	values := make([]string, 0, len(groups))
	for v := range groups {
		values = append(values, v)
	}
	sort.Strings(values)

	type seriesJSON struct {
		Labels map[string]string `json:"labels"`
		Points []Point           `json:"points"`
	}
	series := []seriesJSON{}
	for _, v := range values {
		series = append(series, seriesJSON{Labels: map[string]string{mq.groupBy: v}, Points: Aggregate(groups[v], mq.bucket, mq.agg)})
	}
	body["series"] = series
	writeJSON(w, http.StatusOK, body)
}

// selectSamples keeps the samples of the query's host and metric inside
// [from, to) that carry every label filter.
func selectSamples(all []Sample, mq metricQuery) []Sample {
	var out []Sample
	for _, s := range all {
		if s.Host != mq.host || s.Name != mq.name || s.Time.Before(mq.from) || !s.Time.Before(mq.to) {
			continue
		}
		matches := true
		for k, v := range mq.filters {
			if s.Labels[k] != v {
				matches = false
				break
			}
		}
		if matches {
			out = append(out, s)
		}
	}
	return out
}

// applyHostLevel narrows samples to the host-level series of an
// unfiltered query.
func applyHostLevel(samples *[]Sample, mq metricQuery) error {
	info := model.Metrics[mq.name]
	switch info.Label {
	case "core":
		*samples = withLabel(*samples, "core", "total")
	case "mount":
		rooted := withLabel(*samples, "mount", "/")
		if len(rooted) == 0 && len(*samples) > 0 {
			return fmt.Errorf("label.mount: host %q has no / mount; name a mount with label.mount", mq.host)
		}
		*samples = rooted
	case "iface":
		*samples = sumPerTime(*samples)
	}
	return nil
}

func withLabel(samples []Sample, key, value string) []Sample {
	var out []Sample
	for _, s := range samples {
		if s.Labels[key] == value {
			out = append(out, s)
		}
	}
	return out
}

// sumPerTime adds up the samples that share a timestamp (one per network
// interface) into one sample.
func sumPerTime(samples []Sample) []Sample {
	sums := map[time.Time]float64{}
	for _, s := range samples {
		sums[s.Time] += s.Value
	}
	out := make([]Sample, 0, len(sums))
	for t, v := range sums {
		out = append(out, Sample{Time: t, Value: v})
	}
	return out
}

// Aggregate groups samples into buckets of the given length starting at
// multiples of it since the Unix epoch, and applies agg (avg, min, max or
// sum) to each. Points come oldest first; empty buckets are left out.
func Aggregate(samples []Sample, bucket time.Duration, agg string) []Point {
	groups := map[int64][]float64{}
	for _, s := range samples {
		start := BucketStart(s.Time, bucket).Unix()
		groups[start] = append(groups[start], s.Value)
	}

	starts := make([]int64, 0, len(groups))
	for start := range groups {
		starts = append(starts, start)
	}
	slices.Sort(starts)

	points := []Point{}
	for _, start := range starts {
		points = append(points, Point{Time: time.Unix(start, 0).UTC(), Value: reduce(groups[start], agg)})
	}
	return points
}

// BucketStart returns the start of the bucket that holds t.
func BucketStart(t time.Time, bucket time.Duration) time.Time {
	return time.Unix(0, t.UnixNano()-t.UnixNano()%int64(bucket)).UTC()
}

func reduce(values []float64, agg string) float64 {
	switch agg {
	case "min":
		return slices.Min(values)
	case "max":
		return slices.Max(values)
	}
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	if agg == "sum" {
		return sum
	}
	return sum / float64(len(values))
}

// Log query limits of the API.
const (
	DefaultLogLimit = 100
	MaxLogLimit     = 1000
)

func (f *FakeAPI) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, offset, err := parsePage(q.Get("limit"), q.Get("cursor"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	var from time.Time
	if s := q.Get("from"); s != "" {
		if from, err = time.Parse(time.RFC3339, s); err != nil {
			writeError(w, http.StatusBadRequest, "from: %v", err)
			return
		}
	}

	matches := FilterLogs(f.snapshot().Logs, q.Get("host"), q.Get("level"), q.Get("q"), from)
	page := matches[min(offset, len(matches)):min(offset+limit, len(matches))]

	type entryJSON struct {
		ID      int64     `json:"id"`
		Time    time.Time `json:"time"`
		Host    string    `json:"host"`
		Path    string    `json:"path"`
		Level   string    `json:"level"`
		Message string    `json:"message"`
	}
	entries := []entryJSON{}
	for _, e := range page {
		entries = append(entries, entryJSON{ID: e.ID, Time: e.Time.UTC(), Host: e.Host, Path: e.Path, Level: e.Level, Message: e.Message})
	}

	var next *string
	if offset+limit < len(matches) {
		cursor := "offset-" + strconv.Itoa(offset+limit)
		next = &cursor
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "next_cursor": next})
}

func parsePage(limitText, cursor string) (limit, offset int, err error) {
	limit = DefaultLogLimit
	if limitText != "" {
		limit, err = strconv.Atoi(limitText)
		if err != nil || limit < 1 || limit > MaxLogLimit {
			return 0, 0, fmt.Errorf("limit: %q is not a number from 1 to %d", limitText, MaxLogLimit)
		}
	}
	if cursor != "" {
		rest, ok := strings.CutPrefix(cursor, "offset-")
		offset, err = strconv.Atoi(rest)
		if !ok || err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("cursor: %q is not a cursor this server returned", cursor)
		}
	}
	return limit, offset, nil
}

// FilterLogs returns the entries of host with the level (any when empty),
// whose message contains q case-insensitively, at or after from, newest
// first (ties broken by the higher id first).
func FilterLogs(all []LogEntry, host, level, q string, from time.Time) []LogEntry {
	needle := strings.ToLower(q)
	var out []LogEntry
	for _, e := range all {
		if e.Host != host || (level != "" && e.Level != level) || e.Time.Before(from) {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(e.Message), needle) {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.After(out[j].Time)
		}
		return out[i].ID > out[j].ID
	})
	return out
}
