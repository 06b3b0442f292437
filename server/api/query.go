package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// maxQuerySpan is the longest from-to range one query may cover.
const maxQuerySpan = 30 * 24 * time.Hour

// defaultQuerySpan is used when from is omitted.
const defaultQuerySpan = time.Hour

type queryResponse struct {
	Host   string           `json:"host"`
	Name   string           `json:"name"`
	Bucket string           `json:"bucket"`
	Agg    string           `json:"agg"`
	Points []storage.Point  `json:"points,omitempty"`
	Series []storage.Series `json:"series,omitempty"`
}

// paramError is a bad query parameter; its text names the parameter.
type paramError struct{ param, msg string }

func (e *paramError) Error() string { return e.param + ": " + e.msg }

func (a *API) queryMetrics(w http.ResponseWriter, r *http.Request) {
	q, err := parseMetricQuery(r.URL.Query(), a.opts.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	resp := queryResponse{Host: q.Host, Name: q.Name, Bucket: q.Bucket, Agg: q.Agg}

	if q.GroupBy != "" {
		resp.Series, err = a.opts.Store.QueryMetricSeries(r.Context(), q)
		if err == nil {
			WriteJSON(w, http.StatusOK, resp)
			return
		}
	} else {
		resp.Points, err = a.opts.Store.QueryMetrics(r.Context(), q)
		if err == nil {
			writePointsJSON(w, resp)
			return
		}
	}

	if errors.Is(err, storage.ErrNoRootMount) {
		writeError(w, http.StatusBadRequest,
			`label.mount: host has no "/" mount: pick one with label.mount=<mount>; GET /api/v1/series lists them`)
		return
	}
	a.WriteStorageError(w, r, err)
}

// writePointsJSON writes an ungrouped response, where points is always
// present, even when empty.
func writePointsJSON(w http.ResponseWriter, resp queryResponse) {
	WriteJSON(w, http.StatusOK, struct {
		Host   string          `json:"host"`
		Name   string          `json:"name"`
		Bucket string          `json:"bucket"`
		Agg    string          `json:"agg"`
		Points []storage.Point `json:"points"`
	}{resp.Host, resp.Name, resp.Bucket, resp.Agg, resp.Points})
}

func parseMetricQuery(v url.Values, now time.Time) (storage.Query, error) {
	q := storage.Query{Host: v.Get("host"), Name: v.Get("name"), Bucket: v.Get("bucket"), Agg: v.Get("agg"), GroupBy: v.Get("group_by")}

	if q.Host == "" {
		return q, &paramError{"host", "missing: name the host to query"}
	}
	if q.Name == "" {
		return q, &paramError{"name", "missing: name one of " + strings.Join(model.MetricNames(), ", ")}
	}
	if !model.IsKnownMetric(q.Name) {
		return q, &paramError{"name", fmt.Sprintf("unknown metric %q: use one of %s", q.Name, strings.Join(model.MetricNames(), ", "))}
	}
	if q.Bucket == "" {
		q.Bucket = "1m"
	}
	if _, ok := storage.Buckets[q.Bucket]; !ok {
		return q, &paramError{"bucket", fmt.Sprintf("%q is not one of %s", q.Bucket, strings.Join(sortedKeys(storage.Buckets), ", "))}
	}
	if q.Agg == "" {
		q.Agg = "avg"
	}
	if _, ok := storage.Aggs[q.Agg]; !ok {
		return q, &paramError{"agg", fmt.Sprintf("%q is not one of %s", q.Agg, strings.Join(sortedKeys(storage.Aggs), ", "))}
	}

	var err error
	if q.From, q.To, err = parseRange(v, now); err != nil {
		return q, err
	}
	if q.Labels, err = parseLabels(v); err != nil {
		return q, err
	}
	if q.GroupBy != "" && !model.ValidLabelKey(q.GroupBy) {
		return q, &paramError{"group_by", fmt.Sprintf("%q is not a label key", q.GroupBy)}
	}
	return q, nil
}

// parseRange reads from (inclusive) and to (exclusive). to defaults to now
// and from to one hour before to.
func parseRange(v url.Values, now time.Time) (from, to time.Time, err error) {
	to = now
	if s := v.Get("to"); s != "" {
		if to, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return from, to, &paramError{"to", fmt.Sprintf("%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", s)}
		}
	}
	from = to.Add(-defaultQuerySpan)
	if s := v.Get("from"); s != "" {
		if from, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return from, to, &paramError{"from", fmt.Sprintf("%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", s)}
		}
	}

	if !from.Before(to) {
		return from, to, &paramError{"from", "must be before to"}
	}
	if to.Sub(from) > maxQuerySpan {
		return from, to, &paramError{"from", fmt.Sprintf("range %s is longer than 30 days: narrow from and to", to.Sub(from))}
	}
	return from.UTC(), to.UTC(), nil
}

// parseLabels collects label.<key>=<value> filters.
func parseLabels(v url.Values) (map[string]string, error) {
	var labels map[string]string
	for k, vals := range v {
		key, ok := strings.CutPrefix(k, "label.")
		if !ok {
			continue
		}
		if !model.ValidLabelKey(key) {
			return nil, &paramError{k, fmt.Sprintf("%q is not a label key", key)}
		}
		if len(vals) != 1 || vals[0] == "" {
			return nil, &paramError{k, "give exactly one non-empty value"}
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[key] = vals[0]
	}
	return labels, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (a *API) listSeries(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	host, name := v.Get("host"), v.Get("name")
	if host == "" {
		writeError(w, http.StatusBadRequest, "host: missing: name the host")
		return
	}
	if !model.IsKnownMetric(name) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("name: unknown metric %q: use one of %s", name, strings.Join(model.MetricNames(), ", ")))
		return
	}

	sets, err := a.opts.Store.ListSeries(r.Context(), host, name, a.opts.Now().Add(-maxQuerySpan))
	if err != nil {
		a.WriteStorageError(w, r, err)
		return
	}
	type series struct {
		Labels map[string]string `json:"labels"`
	}
	out := make([]series, len(sets))
	for i, labels := range sets {
		out[i] = series{Labels: labels}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"host": host, "name": name, "series": out})
}
