package storage_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

func TestLatestValuesPerSeries(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	point := func(host, core string, at time.Duration, v float64) model.Metric {
		return model.Metric{Time: t0.Add(at), Host: host, Name: model.CPUUsagePct, Value: v, Labels: map[string]string{"core": core}}
	}
	insert(t, st, "a", []model.Metric{
		point("a", "0", 0, 10), point("a", "0", time.Minute, 11),
		point("a", "1", 0, 20), point("a", "1", time.Minute, 21),
		point("a", "total", -time.Hour, 99), // older than Since
	})
	insert(t, st, "b", []model.Metric{point("b", "0", 30*time.Second, 30)})
	insert(t, st, "m", []model.Metric{{Time: t0, Host: "a", Name: model.MemUsedPct, Value: 50}})

	got, err := st.LatestValues(context.Background(), storage.LatestQuery{Name: model.CPUUsagePct, Since: t0.Add(-time.Minute)})
	if err != nil {
		t.Fatalf("latest values: %v", err)
	}
	want := []storage.SeriesValue{
		{Host: "a", Labels: map[string]string{"core": "0"}, Time: t0.Add(time.Minute), Value: 11},
		{Host: "a", Labels: map[string]string{"core": "1"}, Time: t0.Add(time.Minute), Value: 21},
		{Host: "b", Labels: map[string]string{"core": "0"}, Time: t0.Add(30 * time.Second), Value: 30},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("latest values =\n%+v\nwant\n%+v", got, want)
	}

	got, err = st.LatestValues(context.Background(), storage.LatestQuery{
		Name: model.CPUUsagePct, Host: "a", Labels: map[string]string{"core": "1"}, Since: t0.Add(-time.Minute),
	})
	if err != nil {
		t.Fatalf("latest values with host and labels: %v", err)
	}
	if len(got) != 1 || got[0].Value != 21 {
		t.Fatalf("host a core 1 = %+v, want one value 21", got)
	}

	got, err = st.LatestValues(context.Background(), storage.LatestQuery{Name: model.MemUsedPct, Since: t0.Add(-time.Minute)})
	if err != nil {
		t.Fatalf("latest values without labels: %v", err)
	}
	if len(got) != 1 || got[0].Labels == nil || len(got[0].Labels) != 0 {
		t.Fatalf("mem.used_pct = %+v, want one series with an empty label set", got)
	}
}

func TestFiringAlertsSaveLoadDelete(t *testing.T) {
	st := openStore(t, pgtest.NewDatabase(t))
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a := storage.FiringAlert{RuleID: "cpu", Host: "h", Labels: map[string]string{"core": "0"}, Name: model.CPUUsagePct, IncidentID: "i1", Value: 95, FiredAt: t0}
	b := storage.FiringAlert{RuleID: "mem", Host: "h", Labels: map[string]string{}, Name: model.MemUsedPct, IncidentID: "i2", Value: 97, FiredAt: t0}
	for _, fa := range []storage.FiringAlert{a, b} {
		if err := st.SaveFiringAlert(ctx, fa); err != nil {
			t.Fatalf("save %s: %v", fa.RuleID, err)
		}
	}
	a.IncidentID, a.Value = "i3", 96
	if err := st.SaveFiringAlert(ctx, a); err != nil {
		t.Fatalf("save again: %v", err)
	}

	got, err := st.LoadFiringAlerts(ctx)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if want := []storage.FiringAlert{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("loaded\n%+v\nwant\n%+v", got, want)
	}

	if err := st.DeleteFiringAlert(ctx, "cpu", "h", map[string]string{"core": "0"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := st.DeleteFiringAlert(ctx, "mem", "h", nil); err != nil {
		t.Fatalf("delete with nil labels: %v", err)
	}
	if got, _ := st.LoadFiringAlerts(ctx); len(got) != 0 {
		t.Fatalf("after delete: %+v, want none", got)
	}
}
