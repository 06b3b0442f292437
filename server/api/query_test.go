package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/servertest"
)

type queryAnswer struct {
	Host   string `json:"host"`
	Name   string `json:"name"`
	Bucket string `json:"bucket"`
	Agg    string `json:"agg"`
	Points []struct {
		Time  time.Time `json:"time"`
		Value float64   `json:"value"`
	} `json:"points"`
	Series []struct {
		Labels map[string]string `json:"labels"`
		Points []struct {
			Time  time.Time `json:"time"`
			Value float64   `json:"value"`
		} `json:"points"`
	} `json:"series"`
}

func query(t *testing.T, base, tok string, params url.Values) (response, queryAnswer) {
	t.Helper()
	r := do(t, "GET", base+"/api/v1/metrics/query?"+params.Encode(), tok, nil)
	var a queryAnswer
	_ = json.Unmarshal([]byte(r.raw), &a)
	return r, a
}

func TestQueryAnswers(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Hour)

	// Two cores over three minutes, one point every 20 s with value
	// 10*i for core 0 and 10*i+1 for core 1.
	var pts []model.Metric
	for i := range 9 {
		at := start.Add(time.Duration(i) * 20 * time.Second)
		pts = append(pts,
			model.Metric{Time: at, Name: model.CPUUsagePct, Value: float64(10 * i), Labels: map[string]string{"core": "0"}},
			model.Metric{Time: at, Name: model.CPUUsagePct, Value: float64(10*i + 1), Labels: map[string]string{"core": "1"}},
			model.Metric{Time: at, Name: model.CPUUsagePct, Value: float64(5 * i), Labels: map[string]string{"core": "total"}},
		)
	}
	if r := do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, model.MetricBatch{Host: "h", Metrics: pts})); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.raw)
	}

	params := url.Values{"host": {"h"}, "name": {"cpu.usage_pct"}, "from": {start.Format(time.RFC3339)}, "to": {start.Add(time.Hour).Format(time.RFC3339)}, "agg": {"max"}}
	r, a := query(t, srv.URL, tok, params)
	if r.status != 200 {
		t.Fatalf("query: %d %s", r.status, r.raw)
	}
	if a.Host != "h" || a.Name != "cpu.usage_pct" || a.Bucket != "1m" || a.Agg != "max" {
		t.Fatalf("answer header = %+v", a)
	}
	// core=total: minute m holds i = 3m..3m+2, max 5*(3m+2).
	if len(a.Points) != 3 {
		t.Fatalf("points = %+v, want 3 one-minute buckets", a.Points)
	}
	for m, p := range a.Points {
		if !p.Time.Equal(start.Add(time.Duration(m)*time.Minute)) || p.Value != float64(5*(3*m+2)) {
			t.Errorf("point %d = %+v, want %v at %v", m, p, 5*(3*m+2), start.Add(time.Duration(m)*time.Minute))
		}
	}

	params.Set("label.core", "1")
	_, a = query(t, srv.URL, tok, params)
	if len(a.Points) != 3 || a.Points[0].Value != 21 {
		t.Fatalf("label.core=1 points = %+v, want first max 21", a.Points)
	}

	params.Del("label.core")
	params.Set("group_by", "core")
	_, a = query(t, srv.URL, tok, params)
	if len(a.Series) != 3 || a.Series[0].Labels["core"] != "0" || a.Series[2].Labels["core"] != "total" {
		t.Fatalf("grouped series = %+v, want cores 0, 1, total", a.Series)
	}
	if a.Points != nil || !strings.Contains(r.raw, `"points"`) {
		t.Fatalf("grouped answer must carry series, not points")
	}

	params.Del("group_by")
	params.Set("host", "nobody")
	r, a = query(t, srv.URL, tok, params)
	if r.status != 200 || !strings.Contains(r.raw, `"points":[]`) {
		t.Fatalf("empty answer = %d %s, want points: []", r.status, r.raw)
	}
}

func TestQueryRejectsBadParameters(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	now := time.Now().UTC()
	good := func() url.Values {
		return url.Values{"host": {"h"}, "name": {"mem.used_pct"}, "from": {now.Add(-time.Hour).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}}
	}

	cases := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"missing host", func(v url.Values) { v.Del("host") }, "host"},
		{"unknown name", func(v url.Values) { v.Set("name", "cpu.temp") }, "name"},
		{"bad bucket", func(v url.Values) { v.Set("bucket", "7m") }, "bucket"},
		{"sql in bucket", func(v url.Values) { v.Set("bucket", "1m'); DROP TABLE metrics; --") }, "bucket"},
		{"bad agg", func(v url.Values) { v.Set("agg", "median") }, "agg"},
		{"bad from", func(v url.Values) { v.Set("from", "yesterday") }, "from"},
		{"bad to", func(v url.Values) { v.Set("to", "2026-13-01") }, "to"},
		{"from after to", func(v url.Values) { v.Set("from", now.Add(time.Hour).Format(time.RFC3339)) }, "from"},
		{"span over 30 days", func(v url.Values) { v.Set("from", now.Add(-31*24*time.Hour).Format(time.RFC3339)) }, "from"},
		{"bad label key", func(v url.Values) { v.Set("label.a-b", "x") }, "label.a-b"},
		{"bad group_by", func(v url.Values) { v.Set("group_by", "x y") }, "group_by"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := good()
			tc.edit(v)
			r, _ := query(t, srv.URL, tok, v)
			msg, _ := r.body["error"].(string)
			if r.status != 400 || !strings.HasPrefix(msg, tc.field) {
				t.Fatalf("got %d %q, want 400 naming %q", r.status, msg, tc.field)
			}
		})
	}
}

func TestQueryDiskWithoutRootMount(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	now := time.Now().UTC().Add(-time.Minute)
	b := model.MetricBatch{Host: "h", Metrics: []model.Metric{{Time: now, Name: model.DiskUsedPct, Value: 40, Labels: map[string]string{"mount": "/data"}}}}
	do(t, "POST", srv.URL+"/api/v1/metrics", tok, mustJSON(t, b))

	r, _ := query(t, srv.URL, tok, url.Values{"host": {"h"}, "name": {"disk.used_pct"}})
	if msg, _ := r.body["error"].(string); r.status != 400 || !strings.HasPrefix(msg, "label.mount") {
		t.Fatalf("got %d %s, want 400 naming label.mount", r.status, r.raw)
	}
	r, a := query(t, srv.URL, tok, url.Values{"host": {"h"}, "name": {"disk.used_pct"}, "label.mount": {"/data"}})
	if r.status != 200 || len(a.Points) != 1 || a.Points[0].Value != 40 {
		t.Fatalf("label.mount=/data: %d %s, want one point of 40", r.status, r.raw)
	}
}
