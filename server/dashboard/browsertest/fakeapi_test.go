package browsertest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/dashboard/browsertest"
)

var base = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func fakeData() browsertest.Dataset {
	var samples []browsertest.Sample
	for i, v := range []float64{10, 20, 30, 40} {
		at := base.Add(time.Duration(i) * 30 * time.Second)
		samples = append(samples,
			browsertest.Sample{Host: "h", Name: model.CPUUsagePct, Labels: map[string]string{"core": "total"}, Time: at, Value: v},
			browsertest.Sample{Host: "h", Name: model.CPUUsagePct, Labels: map[string]string{"core": "0"}, Time: at, Value: v + 1},
			browsertest.Sample{Host: "h", Name: model.NetBytesIn, Labels: map[string]string{"iface": "eth0"}, Time: at, Value: 100},
			browsertest.Sample{Host: "h", Name: model.NetBytesIn, Labels: map[string]string{"iface": "eth1"}, Time: at, Value: 5},
			browsertest.Sample{Host: "h", Name: model.DiskUsedPct, Labels: map[string]string{"mount": "/data"}, Time: at, Value: 50},
		)
	}
	var logs []browsertest.LogEntry
	for i := range 5 {
		logs = append(logs, browsertest.LogEntry{ID: int64(i), Time: base.Add(time.Duration(i) * time.Second), Host: "h", Path: "/p", Level: "info", Message: "Item_" + string(rune('a'+i))})
	}
	return browsertest.Dataset{Samples: samples, Logs: logs}
}

func query(t *testing.T, h http.Handler, path string, params url.Values) (int, map[string]json.RawMessage) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?"+params.Encode(), nil))
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode %s response %q: %v", path, rec.Body.String(), err)
	}
	return rec.Code, body
}

func metricParams(name string, extra map[string]string) url.Values {
	v := url.Values{"host": {"h"}, "name": {name}, "from": {base.Format(time.RFC3339)}, "to": {base.Add(time.Hour).Format(time.RFC3339)}, "bucket": {"1m"}}
	for k, val := range extra {
		v.Set(k, val)
	}
	return v
}

func decodePoints(t *testing.T, raw json.RawMessage) []browsertest.Point {
	t.Helper()
	var points []browsertest.Point
	if err := json.Unmarshal(raw, &points); err != nil {
		t.Fatalf("decode points %s: %v", raw, err)
	}
	return points
}

func TestFakeMetricsHostLevelAverage(t *testing.T) {
	code, body := query(t, browsertest.NewFakeAPI(fakeData()), "/api/v1/metrics/query", metricParams(model.CPUUsagePct, nil))
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	points := decodePoints(t, body["points"])
	// core=total only: minute 0 holds 10 and 20, minute 1 holds 30 and 40.
	if len(points) != 2 || points[0].Value != 15 || points[1].Value != 35 || !points[1].Time.Equal(base.Add(time.Minute)) {
		t.Errorf("points %+v, want 15 at 12:00 and 35 at 12:01", points)
	}
}

func TestFakeMetricsNetSumsInterfaces(t *testing.T) {
	_, body := query(t, browsertest.NewFakeAPI(fakeData()), "/api/v1/metrics/query", metricParams(model.NetBytesIn, map[string]string{"agg": "sum"}))
	points := decodePoints(t, body["points"])
	if len(points) != 2 || points[0].Value != 210 {
		t.Errorf("points %+v, want 2 buckets of (100+5)×2 = 210", points)
	}
}

func TestFakeMetricsGroupBy(t *testing.T) {
	_, body := query(t, browsertest.NewFakeAPI(fakeData()), "/api/v1/metrics/query", metricParams(model.CPUUsagePct, map[string]string{"group_by": "core"}))
	var series []struct {
		Labels map[string]string   `json:"labels"`
		Points []browsertest.Point `json:"points"`
	}
	if err := json.Unmarshal(body["series"], &series); err != nil {
		t.Fatalf("decode series: %v", err)
	}
	if len(series) != 2 || series[0].Labels["core"] != "0" || series[0].Points[0].Value != 16 {
		t.Errorf("series %+v, want core 0 (first bucket 16) and core total", series)
	}
}

func TestFakeMetricsDiskWithoutRoot(t *testing.T) {
	code, body := query(t, browsertest.NewFakeAPI(fakeData()), "/api/v1/metrics/query", metricParams(model.DiskUsedPct, nil))
	if code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400 for a host without /", code)
	}
	if len(body["error"]) == 0 {
		t.Errorf("no error message")
	}
}

func TestFakeMetricsRejectsBadInput(t *testing.T) {
	for _, extra := range []map[string]string{{"bucket": "2m"}, {"agg": "median"}, {"from": "yesterday"}, {"name": "cpu.bogus"}} {
		code, _ := query(t, browsertest.NewFakeAPI(fakeData()), "/api/v1/metrics/query", metricParams(model.CPUUsagePct, extra))
		if code != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", extra, code)
		}
	}
}

func TestFakeLogsPagingAndSearch(t *testing.T) {
	api := browsertest.NewFakeAPI(fakeData())
	_, first := query(t, api, "/api/v1/logs/query", url.Values{"host": {"h"}, "limit": {"2"}})
	var cursor *string
	if err := json.Unmarshal(first["next_cursor"], &cursor); err != nil || cursor == nil {
		t.Fatalf("first page has no next_cursor: %s", first["next_cursor"])
	}
	_, second := query(t, api, "/api/v1/logs/query", url.Values{"host": {"h"}, "limit": {"2"}, "cursor": {*cursor}})
	var entries []struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(second["entries"], &entries); err != nil {
		t.Fatalf("decode entries: %v", err)
	}
	if len(entries) != 2 || entries[0].ID != 2 || entries[1].ID != 1 {
		t.Errorf("second page %+v, want ids 2 and 1", entries)
	}

	// "_" is a literal character and the match ignores case.
	matches := browsertest.FilterLogs(fakeData().Logs, "h", "", "ITEM_C", time.Time{})
	if len(matches) != 1 || matches[0].ID != 2 {
		t.Errorf("search ITEM_C matched %+v", matches)
	}
}

func TestInterceptorFailsAndRecords(t *testing.T) {
	ic := browsertest.NewInterceptor(browsertest.NewFakeAPI(fakeData()))
	srv := httptest.NewServer(ic)
	defer srv.Close()

	ic.FailAPI(http.StatusServiceUnavailable)
	resp, err := http.Get(srv.URL + "/api/v1/hosts")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d while failing, want 503", resp.StatusCode)
	}

	ic.FailAPI(0)
	since := ic.Count()
	go func() {
		if resp, err := http.Get(srv.URL + "/api/v1/alerts"); err == nil {
			resp.Body.Close()
		}
	}()
	r := ic.WaitRequest(t, since, "the alerts request", func(r browsertest.Request) bool { return r.Path == "/api/v1/alerts" })
	if r.Status != 0 {
		t.Errorf("request recorded with injected status %d after recovery", r.Status)
	}
	if got := ic.Requests()[0]; got.Path != "/api/v1/hosts" || got.Status != http.StatusServiceUnavailable {
		t.Errorf("first record %+v", got)
	}
}
