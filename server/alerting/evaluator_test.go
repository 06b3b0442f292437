package alerting_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/alerting"
	"github.com/kamerrezz/theminidog/server/liveness"
)

var total = map[string]string{"core": "total"}

// TestFlappingAlertNotifiesEveryIncident runs cpu.usage_pct > 90 with for
// equal to one evaluation interval over the values 95, 95, 50, 95, 95, 50,
// one per evaluation, and checks the webhook bodies received.
func TestFlappingAlertNotifiesEveryIncident(t *testing.T) {
	values := []float64{95, 95, 50, 95, 95, 50}
	const interval = time.Minute

	for _, sendResolved := range []bool{true, false} {
		t.Run(fmt.Sprintf("send_resolved=%v", sendResolved), func(t *testing.T) {
			st := openStore(t)
			wh := newWebhook(t)
			rules := parseRules(t, fmt.Sprintf(`[{"id": "cpu-high", "host": "host-a", "name": "cpu.usage_pct",
				"op": ">", "threshold": 90, "for": "1m", "send_resolved": %v}]`, sendResolved))
			ev := newEvaluator(t, st, rules, interval, postSender{t, wh.srv.URL}, nil)

			type received struct {
				eval int
				body map[string]any
			}
			var got []received
			for i, v := range values {
				at := t0.Add(time.Duration(i) * interval)
				put(t, st, "host-a", model.CPUUsagePct, total, at, v)
				evaluate(t, ev, at)
				for _, b := range wh.take() {
					got = append(got, received{eval: i + 1, body: b})
				}
			}

			type expected struct {
				eval  int
				event string
				value float64
			}
			want := []expected{{2, "firing", 95}, {3, "resolved", 50}, {5, "firing", 95}, {6, "resolved", 50}}
			if !sendResolved {
				want = []expected{{2, "firing", 95}, {5, "firing", 95}}
			}
			if len(got) != len(want) {
				t.Fatalf("received %d webhooks, want %d: %+v", len(got), len(want), got)
			}
			for i, w := range want {
				b := got[i].body
				if got[i].eval != w.eval || b["event"] != w.event || b["value"] != w.value {
					t.Errorf("webhook %d: eval %d event %v value %v, want eval %d event %s value %v",
						i, got[i].eval, b["event"], b["value"], w.eval, w.event, w.value)
				}
				if b["rule_id"] != "cpu-high" || b["host"] != "host-a" || b["name"] != model.CPUUsagePct || b["threshold"] != 90.0 {
					t.Errorf("webhook %d identifies %v %v %v %v, want rule cpu-high, host-a, cpu.usage_pct, threshold 90",
						i, b["rule_id"], b["host"], b["name"], b["threshold"])
				}
				wantFired := t0.Add(time.Duration(w.eval-1) * interval)
				if w.event == "resolved" {
					wantFired = wantFired.Add(-interval)
					if b["resolved_at"] != t0.Add(time.Duration(w.eval-1)*interval).Format(time.RFC3339) {
						t.Errorf("webhook %d resolved_at = %v, want the time of evaluation %d", i, b["resolved_at"], w.eval)
					}
				} else if b["resolved_at"] != nil {
					t.Errorf("webhook %d resolved_at = %v, want null on firing", i, b["resolved_at"])
				}
				if b["fired_at"] != wantFired.Format(time.RFC3339) {
					t.Errorf("webhook %d fired_at = %v, want %s", i, b["fired_at"], wantFired.Format(time.RFC3339))
				}
			}

			firstID, secondID := got[0].body["incident_id"], got[len(got)/2].body["incident_id"]
			if firstID == secondID || firstID == "" || secondID == "" {
				t.Errorf("the two firings carry incident ids %v and %v, want two different ids", firstID, secondID)
			}
			if sendResolved {
				if got[1].body["incident_id"] != firstID || got[3].body["incident_id"] != secondID {
					t.Errorf("resolved incident ids %v, %v do not match their firings %v, %v",
						got[1].body["incident_id"], got[3].body["incident_id"], firstID, secondID)
				}
			}
		})
	}
}

func TestDiskAboveThresholdFires(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "disk-full", "host": "*", "name": "disk.used_pct", "op": ">", "threshold": 92}]`)
	ev := newEvaluator(t, st, rules, 30*time.Second, rec, nil)

	// 94.74 % is used / (used + available to unprivileged users) for an
	// ext4 volume with 5 % of its blocks reserved for root. The same volume
	// computed as used / total shows 90 %, which would never fire.
	put(t, st, "db-1", model.DiskUsedPct, map[string]string{"mount": "/data"}, t0, 94.74)
	put(t, st, "db-1", model.DiskUsedPct, map[string]string{"mount": "/"}, t0, 40)
	evaluate(t, ev, t0)

	events := rec.take()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1: %+v", len(events), events)
	}
	e := events[0]
	if e.Event != model.EventFiring || e.Labels["mount"] != "/data" || *e.Value != 94.74 || *e.RuleID != "disk-full" {
		t.Fatalf("event = %+v labels %v value %v, want firing on mount /data with 94.74", e, e.Labels, *e.Value)
	}
}

func TestRuleWithoutLabelsWatchesEachSeries(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "cpu-high", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90}]`)
	ev := newEvaluator(t, st, rules, 30*time.Second, rec, nil)

	// Core 0 is saturated, core 1 idle: the mean of the two is below 90,
	// and so is the host total.
	put(t, st, "web-1", model.CPUUsagePct, map[string]string{"core": "0"}, t0, 99)
	put(t, st, "web-1", model.CPUUsagePct, map[string]string{"core": "1"}, t0, 3)
	put(t, st, "web-1", model.CPUUsagePct, total, t0, 51)
	evaluate(t, ev, t0)

	events := rec.take()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1: %+v", len(events), events)
	}
	if got := events[0].Labels; len(got) != 1 || got["core"] != "0" {
		t.Fatalf("alert labels = %v, want core=0", got)
	}
	alerts := ev.Alerts()
	if len(alerts) != 1 || alerts[0].Labels["core"] != "0" || alerts[0].State != alerting.StateFiring {
		t.Fatalf("alerts = %+v, want one firing alert on core 0", alerts)
	}
}

func TestClearThresholdHysteresis(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "cpu", "host": "h", "name": "cpu.usage_pct", "op": ">", "threshold": 90, "clear_threshold": 80}]`)
	ev := newEvaluator(t, st, rules, time.Minute, rec, nil)

	steps := []struct {
		value float64
		want  string // event expected at this evaluation, "" for none
	}{
		{85, ""},         // between the thresholds while ok: nothing starts
		{95, "firing"},   // above 90
		{85, ""},         // between the thresholds while firing: keeps firing
		{80.5, ""},       // still above 80
		{80, "resolved"}, // at 80: no longer above the clear threshold
		{85, ""},         // ok again, 85 does not fire
	}
	for i, s := range steps {
		at := t0.Add(time.Duration(i) * time.Minute)
		put(t, st, "h", model.CPUUsagePct, total, at, s.value)
		evaluate(t, ev, at)
		events := rec.take()
		switch {
		case s.want == "" && len(events) != 0:
			t.Errorf("step %d value %v: got %+v, want no event", i, s.value, events)
		case s.want != "" && (len(events) != 1 || events[0].Event != s.want):
			t.Errorf("step %d value %v: got %+v, want one %s event", i, s.value, events, s.want)
		}
	}
}

func TestRepeatResendsWhileFiring(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "cpu", "host": "h", "name": "cpu.usage_pct", "op": ">", "threshold": 90, "repeat": "2m"}]`)
	ev := newEvaluator(t, st, rules, time.Minute, rec, nil)

	var firedAt []int
	var ids []string
	for i := range 6 {
		at := t0.Add(time.Duration(i) * time.Minute)
		put(t, st, "h", model.CPUUsagePct, total, at, 95)
		evaluate(t, ev, at)
		for _, e := range rec.take() {
			if e.Event != model.EventFiring {
				t.Fatalf("evaluation %d: unexpected %s event", i, e.Event)
			}
			firedAt = append(firedAt, i)
			ids = append(ids, e.IncidentID)
		}
	}

	if fmt.Sprint(firedAt) != "[0 2 4]" {
		t.Fatalf("firing events at evaluations %v, want [0 2 4] (fire, then every 2m)", firedAt)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("repeated events carry incident ids %v, want one id", ids)
	}
}

func TestSeriesWithoutDataResolves(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "cpu", "host": "h", "name": "cpu.usage_pct", "op": ">", "threshold": 90}]`)
	ev := newEvaluator(t, st, rules, time.Minute, rec, nil)

	put(t, st, "h", model.CPUUsagePct, total, t0, 97)
	evaluate(t, ev, t0)
	if events := rec.take(); len(events) != 1 || events[0].Event != model.EventFiring {
		t.Fatalf("first evaluation: %+v, want one firing event", events)
	}

	// Without a tracker the no-data period is two intervals: a value 2m old
	// still counts, one 2m1s old does not.
	evaluate(t, ev, t0.Add(2*time.Minute))
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("value 2m old: %+v, want no event", events)
	}
	resolvedAt := t0.Add(2*time.Minute + time.Second)
	evaluate(t, ev, resolvedAt)
	events := rec.take()
	if len(events) != 1 || events[0].Event != model.EventResolved {
		t.Fatalf("value 2m1s old: %+v, want one resolved event", events)
	}
	if *events[0].Value != 97 || !events[0].ResolvedAt.Equal(resolvedAt) {
		t.Fatalf("resolved value %v at %s, want the last value 97 at %s", *events[0].Value, events[0].ResolvedAt, resolvedAt)
	}
	if alerts := ev.Alerts(); len(alerts) != 0 {
		t.Fatalf("alerts after no-data resolution: %+v, want none", alerts)
	}
}

func TestNoDataWaitsForHostDownPeriod(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	tracker, err := liveness.New(context.Background(), liveness.Options{StaleAfter: 20 * time.Second, DownAfter: 50 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatalf("new tracker: %v", err)
	}
	// An agent collecting every 100s is down after 300s of silence.
	tracker.Heartbeat("slow", 100*time.Second, t0)

	rules := parseRules(t, `[{"id": "cpu", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90}]`)
	ev := newEvaluator(t, st, rules, 30*time.Second, rec, tracker)
	put(t, st, "slow", model.CPUUsagePct, total, t0, 97)
	evaluate(t, ev, t0)
	rec.take()

	evaluate(t, ev, t0.Add(300*time.Second))
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("after 300s: %+v, want the alert still firing", events)
	}
	evaluate(t, ev, t0.Add(301*time.Second))
	if events := rec.take(); len(events) != 1 || events[0].Event != model.EventResolved {
		t.Fatalf("after 301s: %+v, want one resolved event", events)
	}
}

func TestRetiredHostResolvesAndStaysSilent(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	tracker, err := liveness.New(context.Background(), liveness.Options{
		StaleAfter: 20 * time.Second, DownAfter: 50 * time.Second, Logger: quiet, Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatalf("new tracker: %v", err)
	}
	tracker.Heartbeat("old", 0, t0)
	rules := parseRules(t, `[{"id": "cpu", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90}]`)
	ev := newEvaluator(t, st, rules, time.Minute, rec, tracker)

	put(t, st, "old", model.CPUUsagePct, total, t0, 99)
	evaluate(t, ev, t0)
	if events := rec.take(); len(events) != 1 {
		t.Fatalf("before retirement: %+v, want one firing event", events)
	}

	if _, err := tracker.Retire(context.Background(), "old"); err != nil {
		t.Fatalf("retire: %v", err)
	}
	evaluate(t, ev, t0.Add(time.Second))
	if events := rec.take(); len(events) != 1 || events[0].Event != model.EventResolved {
		t.Fatalf("after retirement: %+v, want one resolved event", events)
	}

	// Data the retired host sent before its retirement raises nothing.
	evaluate(t, ev, t0.Add(2*time.Second))
	if events, alerts := rec.take(), ev.Alerts(); len(events) != 0 || len(alerts) != 0 {
		t.Fatalf("retired host: events %+v, alerts %+v, want none", events, alerts)
	}
}

func TestFiringAlertSurvivesRestart(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "cpu", "host": "h", "name": "cpu.usage_pct", "op": ">", "threshold": 90},
		{"id": "gone", "host": "h", "name": "mem.used_pct", "op": ">", "threshold": 90}]`)
	first := newEvaluator(t, st, rules, time.Minute, rec, nil)
	put(t, st, "h", model.CPUUsagePct, total, t0, 95)
	put(t, st, "h", model.MemUsedPct, nil, t0, 99)
	evaluate(t, first, t0)
	fired := rec.take()
	if len(fired) != 2 {
		t.Fatalf("first run: %+v, want two firing events", fired)
	}
	cpuIncident := fired[0].IncidentID
	if *fired[0].RuleID != "cpu" {
		cpuIncident = fired[1].IncidentID
	}

	// The restarted server no longer has rule "gone": its alert is dropped.
	second := newEvaluator(t, st, rules[:1], time.Minute, rec, nil)
	alerts := second.Alerts()
	if len(alerts) != 1 || alerts[0].State != alerting.StateFiring || alerts[0].ID != cpuIncident {
		t.Fatalf("resumed alerts = %+v, want rule cpu firing with incident %s", alerts, cpuIncident)
	}

	put(t, st, "h", model.CPUUsagePct, total, t0.Add(time.Minute), 95)
	evaluate(t, second, t0.Add(time.Minute))
	if events := rec.take(); len(events) != 0 {
		t.Fatalf("still above the threshold after restart: %+v, want no new firing", events)
	}
	put(t, st, "h", model.CPUUsagePct, total, t0.Add(2*time.Minute), 10)
	evaluate(t, second, t0.Add(2*time.Minute))
	events := rec.take()
	if len(events) != 1 || events[0].Event != model.EventResolved || events[0].IncidentID != cpuIncident {
		t.Fatalf("after recovery: %+v, want resolved with incident %s", events, cpuIncident)
	}

	if third := newEvaluator(t, st, rules, time.Minute, rec, nil); len(third.Alerts()) != 0 {
		t.Fatalf("alerts stored after resolution and removal: %+v, want none", third.Alerts())
	}
}

func TestQueryFailureKeepsAlerts(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	rules := parseRules(t, `[{"id": "cpu-high", "host": "h", "name": "cpu.usage_pct", "op": ">", "threshold": 90}]`)
	ev := newEvaluator(t, st, rules, time.Minute, rec, nil)
	put(t, st, "h", model.CPUUsagePct, total, t0, 95)
	evaluate(t, ev, t0)
	rec.take()

	st.Close()
	err := ev.Evaluate(context.Background(), t0.Add(10*time.Minute))
	if err == nil || !strings.Contains(err.Error(), "cpu-high") {
		t.Fatalf("evaluate on a closed store: err = %v, want one naming rule cpu-high", err)
	}
	if events, alerts := rec.take(), ev.Alerts(); len(events) != 0 || len(alerts) != 1 {
		t.Fatalf("after a failed query: events %+v, alerts %+v; want no event and the alert still firing", events, alerts)
	}
}

func TestAlertsListing(t *testing.T) {
	st := openStore(t)
	rules := parseRules(t, `[
		{"id": "b-fast", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90, "labels": {"core": "total"}},
		{"id": "a-slow", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 80, "for": "90s", "labels": {"core": "total"}}
	]`)
	ev := newEvaluator(t, st, rules, 30*time.Second, &recorder{}, nil)
	put(t, st, "web-2", model.CPUUsagePct, total, t0, 95)
	put(t, st, "web-1", model.CPUUsagePct, total, t0, 95)
	evaluate(t, ev, t0)

	raw, err := json.Marshal(map[string]any{"alerts": ev.Alerts()})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got struct {
		Alerts []map[string]any `json:"alerts"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}

	order := []string{}
	for _, a := range got.Alerts {
		order = append(order, fmt.Sprintf("%s/%s/%s", a["state"], a["rule"].(map[string]any)["id"], a["host"]))
	}
	want := "[firing/b-fast/web-1 firing/b-fast/web-2 pending/a-slow/web-1 pending/a-slow/web-2]"
	if fmt.Sprint(order) != want {
		t.Fatalf("alerts in order %v, want %s", order, want)
	}

	pending := got.Alerts[2]
	for _, key := range []string{"id", "rule", "host", "name", "labels", "state", "value", "threshold", "since", "for"} {
		if _, ok := pending[key]; !ok {
			t.Errorf("alert has no %q key: %v", key, pending)
		}
	}
	if pending["for"] != "90s" || pending["rule"].(map[string]any)["for"] != "90s" {
		t.Errorf("for = %v, rule.for = %v, want \"90s\"", pending["for"], pending["rule"].(map[string]any)["for"])
	}
	if pending["since"] != t0.Format(time.RFC3339) || pending["threshold"] != 80.0 || pending["value"] != 95.0 || pending["name"] != model.CPUUsagePct {
		t.Errorf("pending alert = %v, want since %s, threshold 80, value 95", pending, t0.Format(time.RFC3339))
	}
}

func TestManyRulesEvaluatedConcurrently(t *testing.T) {
	st := openStore(t)
	rec := &recorder{}
	const n = 12
	var defs []string
	for i := range n {
		host := fmt.Sprintf("h%02d", i)
		defs = append(defs, fmt.Sprintf(`{"id": "r%02d", "host": %q, "name": "mem.used_pct", "op": ">", "threshold": 50}`, i, host))
		put(t, st, host, model.MemUsedPct, nil, t0, 60)
	}
	rules := parseRules(t, "["+strings.Join(defs, ",")+"]")
	ev, err := alerting.New(context.Background(), alerting.Options{
		Rules: rules, Interval: time.Minute, Store: st, Sender: rec, Logger: quiet, Concurrency: 3,
	})
	if err != nil {
		t.Fatalf("new evaluator: %v", err)
	}

	evaluate(t, ev, t0)
	events := rec.take()
	if len(events) != n {
		t.Fatalf("got %d firing events, want %d", len(events), n)
	}
	hosts := map[string]bool{}
	for _, e := range events {
		hosts[e.Host] = true
	}
	if len(hosts) != n {
		t.Fatalf("events cover %d hosts, want %d", len(hosts), n)
	}
}
