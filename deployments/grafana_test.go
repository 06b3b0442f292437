package deployments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.yaml.in/yaml/v3"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/servertest"
)

type dashboard struct {
	UID         string `json:"uid"`
	Description string `json:"description"`
	Templating  struct {
		List []struct {
			Name       string     `json:"name"`
			Query      string     `json:"query"`
			Datasource datasource `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title      string     `json:"title"`
		Datasource datasource `json:"datasource"`
		Targets    []struct {
			RawSQL string `json:"rawSql"`
			Format string `json:"format"`
		} `json:"targets"`
	} `json:"panels"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	raw, err := os.ReadFile("grafana/dashboards/miniobserv.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("parse dashboard JSON: %v", err)
	}
	return d
}

// provisionedDatasource returns the uid and type of the provisioned
// datasource.
func provisionedDatasource(t *testing.T) datasource {
	t.Helper()
	raw, err := os.ReadFile("grafana/provisioning/datasources/miniobserv.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Datasources []struct {
			UID      string         `yaml:"uid"`
			Type     string         `yaml:"type"`
			JSONData map[string]any `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("parse datasource provisioning: %v", err)
	}
	if len(file.Datasources) != 1 {
		t.Fatalf("datasources = %d, want 1", len(file.Datasources))
	}
	ds := file.Datasources[0]
	if _, ok := ds.JSONData["timescaledb"]; !ok {
		t.Errorf("datasource has no timescaledb switch in jsonData")
	}
	return datasource{Type: ds.Type, UID: ds.UID}
}

var (
	tableRef     = regexp.MustCompile(`(?i)\b(?:from|join)\s+([a-z_][a-z0-9_.]*)`)
	metricLit    = regexp.MustCompile(`'([a-z]+\.[a-z_]+)'`)
	bucketCall   = "time_bucket('$__interval', time)"
	dateBinCall  = "date_bin('$__interval', time, TIMESTAMPTZ '2000-01-03')"
	panelsWanted = []string{"CPU", "Memory", "Disk", "Network"}
)

func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t)
	ds := provisionedDatasource(t)

	if d.UID == "" {
		t.Error("dashboard has no uid")
	}
	if !strings.Contains(d.Description, dateBinCall) {
		t.Errorf("description does not give the plain PostgreSQL form %s", dateBinCall)
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
		if v.Datasource != ds {
			t.Errorf("variable %s uses datasource %+v, want %+v", v.Name, v.Datasource, ds)
		}
	}
	for _, want := range []string{"host", "mount"} {
		if !slices.Contains(vars, want) {
			t.Errorf("variables %v lack %s", vars, want)
		}
	}

	for _, want := range panelsWanted {
		found := false
		for _, p := range d.Panels {
			found = found || strings.Contains(p.Title, want)
		}
		if !found {
			t.Errorf("no panel title mentions %s", want)
		}
	}
}

func TestDashboardQueriesUseMetricsTable(t *testing.T) {
	d := loadDashboard(t)
	ds := provisionedDatasource(t)

	for _, p := range d.Panels {
		if p.Datasource != ds {
			t.Errorf("panel %q uses datasource %+v, want %+v", p.Title, p.Datasource, ds)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			checkQuery(t, p.Title, target.RawSQL)
			if !strings.Contains(target.RawSQL, bucketCall) {
				t.Errorf("panel %q does not bucket with %s, so the date_bin substitution does not apply", p.Title, bucketCall)
			}
		}
	}
	for _, v := range d.Templating.List {
		checkQuery(t, "variable "+v.Name, v.Query)
	}
}

// checkQuery asserts that sql reads only the metrics table and names only
// allowlisted metrics.
func checkQuery(t *testing.T, where, sql string) {
	t.Helper()
	if strings.TrimSpace(sql) == "" {
		t.Errorf("%s: empty SQL", where)
		return
	}
	tables := tableRef.FindAllStringSubmatch(sql, -1)
	if len(tables) == 0 {
		t.Errorf("%s: no table in %q", where, sql)
	}
	for _, m := range tables {
		if m[1] != "metrics" {
			t.Errorf("%s: reads table %s, want only metrics", where, m[1])
		}
	}
	for _, m := range metricLit.FindAllStringSubmatch(sql, -1) {
		if !model.IsKnownMetric(m[1]) {
			t.Errorf("%s: metric %q is not in the allowlist", where, m[1])
		}
	}
}

// expandMacros does what Grafana's PostgreSQL datasource does to a query
// before sending it, for a one-minute interval, and swaps time_bucket for
// its plain PostgreSQL form, following the dashboard description.
func expandMacros(sql string, from, to time.Time, hosts, mounts []string) string {
	quote := func(vals []string) string {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
		return strings.Join(q, ",")
	}
	sql = strings.ReplaceAll(sql, bucketCall, dateBinCall)
	r := strings.NewReplacer(
		"$__timeFilter(time)", fmt.Sprintf("time BETWEEN '%s' AND '%s'", from.Format(time.RFC3339), to.Format(time.RFC3339)),
		"$__interval_ms", "60000",
		"$__interval", "1m",
		"$host", quote(hosts),
		"$mount", quote(mounts),
	)
	return r.Replace(sql)
}

// dashboardData is three samples 10 s apart inside one minute, for host
// web-1.
func dashboardData(minute time.Time) model.MetricBatch {
	b := model.MetricBatch{Host: "web-1"}
	for i := range 3 {
		at := minute.Add(time.Duration(i) * 10 * time.Second)
		f := float64(i)
		b.Metrics = append(b.Metrics,
			model.Metric{Time: at, Name: model.CPUUsagePct, Value: 10 + 10*f, Labels: map[string]string{"core": "total"}},
			model.Metric{Time: at, Name: model.CPUUsagePct, Value: 90, Labels: map[string]string{"core": "0"}},
			model.Metric{Time: at, Name: model.MemUsedPct, Value: 50 + f},
			model.Metric{Time: at, Name: model.MemUsedBytes, Value: 4e9 + f*1e6},
			model.Metric{Time: at, Name: model.MemTotalBytes, Value: 8e9},
			model.Metric{Time: at, Name: model.DiskUsedPct, Value: 40 + f, Labels: map[string]string{"mount": "/"}},
			model.Metric{Time: at, Name: model.DiskUsedPct, Value: 10, Labels: map[string]string{"mount": "/data"}},
			model.Metric{Time: at, Name: model.NetBytesIn, Value: 600 * (f + 1), Labels: map[string]string{"iface": "eth0"}},
			model.Metric{Time: at, Name: model.NetBytesIn, Value: 60, Labels: map[string]string{"iface": "eth1"}},
			model.Metric{Time: at, Name: model.NetBytesOut, Value: 120, Labels: map[string]string{"iface": "eth0"}},
		)
	}
	return b
}

// expectedPanels computes each panel's value per series for the one
// bucket of b, following the panel descriptions.
func expectedPanels(b model.MetricBatch) map[string]map[string]float64 {
	var cpu, memPct, memUsed, memTotal, netIn, netOut []float64
	disk := map[string][]float64{}
	for _, m := range b.Metrics {
		switch {
		case m.Name == model.CPUUsagePct && m.Labels["core"] == "total":
			cpu = append(cpu, m.Value)
		case m.Name == model.MemUsedPct:
			memPct = append(memPct, m.Value)
		case m.Name == model.MemUsedBytes:
			memUsed = append(memUsed, m.Value)
		case m.Name == model.MemTotalBytes:
			memTotal = append(memTotal, m.Value)
		case m.Name == model.DiskUsedPct:
			disk[m.Labels["mount"]] = append(disk[m.Labels["mount"]], m.Value)
		case m.Name == model.NetBytesIn:
			netIn = append(netIn, m.Value)
		case m.Name == model.NetBytesOut:
			netOut = append(netOut, m.Value)
		}
	}
	return map[string]map[string]float64{
		"CPU busy (all cores)":  {"web-1": mean(cpu)},
		"Memory used":           {"web-1": mean(memPct)},
		"Memory used and total": {"web-1 used_bytes": mean(memUsed), "web-1 total_bytes": mean(memTotal)},
		"Disk used":             {"web-1 /": slices.Max(disk["/"]), "web-1 /data": slices.Max(disk["/data"])},
		"Network received":      {"web-1": sum(netIn) / 60},
		"Network sent":          {"web-1": sum(netOut) / 60},
	}
}

func sum(vs []float64) float64 {
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s
}

func mean(vs []float64) float64 { return sum(vs) / float64(len(vs)) }

func TestDashboardQueriesOnPostgreSQL(t *testing.T) {
	srv := servertest.Start(t, nil)
	minute := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Minute)
	batch := dashboardData(minute)
	postBatch(t, srv.URL, servertest.AgentToken(t), batch)

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	from, to := minute.Add(-time.Hour), minute.Add(time.Hour)
	hosts := []string{"web-1", "db-1"}
	d := loadDashboard(t)

	for _, v := range d.Templating.List {
		var got []string
		rows, err := conn.Query(ctx, expandMacros(v.Query, from, to, hosts, []string{"/"}))
		if err != nil {
			t.Fatalf("variable %s query: %v", v.Name, err)
		}
		got, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("variable %s query: %v", v.Name, err)
		}
		want := map[string][]string{"host": {"web-1"}, "mount": {"/", "/data"}}[v.Name]
		if !slices.Equal(got, want) {
			t.Errorf("variable %s = %v, want %v", v.Name, got, want)
		}
	}

	want := expectedPanels(batch)
	for _, p := range d.Panels {
		got := runPanel(t, conn, expandMacros(p.Targets[0].RawSQL, from, to, hosts, []string{"/", "/data"}), minute)
		exp, ok := want[p.Title]
		if !ok {
			t.Errorf("panel %q has no expected values in this test", p.Title)
			continue
		}
		if len(got) != len(exp) {
			t.Errorf("panel %q series = %v, want %v", p.Title, got, exp)
		}
		for series, v := range exp {
			if g, ok := got[series]; !ok || math.Abs(g-v) > 1e-9*math.Max(1, math.Abs(v)) {
				t.Errorf("panel %q series %q = %v (present %v), want %v", p.Title, series, g, ok, v)
			}
		}
	}
}

// runPanel runs a time_series query and returns value by series name,
// checking that every row falls in the bucket starting at minute.
func runPanel(t *testing.T, conn *pgx.Conn, sql string, minute time.Time) map[string]float64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	defer rows.Close()

	got := map[string]float64{}
	for rows.Next() {
		var at time.Time
		var series string
		var value float64
		if err := rows.Scan(&at, &series, &value); err != nil {
			t.Fatalf("scan (time, metric, value) from %q: %v", sql, err)
		}
		if !at.Equal(minute) {
			t.Errorf("query %q: bucket %s, want %s", sql, at.UTC(), minute)
		}
		got[series] = value
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return got
}

func postBatch(t *testing.T, base, token string, b model.MetricBatch) {
	t.Helper()
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+"/api/v1/metrics", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest: status %d, want 202", resp.StatusCode)
	}
}
