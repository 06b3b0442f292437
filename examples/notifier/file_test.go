package notifier_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/kamerrezz/theminidog/examples/notifier"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

func ptr[T any](v T) *T { return &v }

func TestFileTypeRegistered(t *testing.T) {
	if !slices.Contains(notifiers.Types(), "file") {
		t.Errorf("registered types %v do not include file", notifiers.Types())
	}
}

func TestFileNotifierDelivers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	list, err := notifiers.Build(`[{"type":"file","path":"` + path + `","send_resolved":false}]`)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	results := make(chan notifiers.Result, 4)
	d, err := notifiers.NewDispatcher(list, nil, notifiers.WithResultHook(func(_ context.Context, r notifiers.Result) { results <- r }))
	if err != nil {
		t.Fatal(err)
	}

	fired := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	firing := model.Event{Event: model.EventFiring, RuleID: ptr("cpu-high"), IncidentID: "inc-1", Host: "host-a",
		Name: model.CPUUsagePct, Value: ptr(95.0), Threshold: ptr(90.0), FiredAt: &fired}
	resolved := firing
	resolved.Event = model.EventResolved
	down := model.Event{Event: model.EventHostDown, IncidentID: "inc-2", Host: "host-b", FiredAt: &fired}
	for _, ev := range []model.Event{firing, resolved, down} {
		d.Send(context.Background(), ev)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range 3 {
		if res := <-results; res.Err != nil {
			t.Errorf("%s: %v", res.Event.Event, res.Err)
		}
	}

	got := readEvents(t, path)
	if len(got) != 2 {
		t.Fatalf("file has %d events, want 2 (the resolved one skipped)", len(got))
	}
	kinds := []string{got[0].Event, got[1].Event}
	slices.Sort(kinds)
	if strings.Join(kinds, ",") != "firing,host.down" {
		t.Errorf("events in file = %v, want firing and host.down", kinds)
	}
	for _, ev := range got {
		if ev.Event == model.EventFiring && (ev.Host != "host-a" || ev.RuleID == nil || *ev.RuleID != "cpu-high" || *ev.Value != 95) {
			t.Errorf("firing line = %+v, want the sent event", ev)
		}
	}
	if c := d.Counts()["file"]; c != (notifiers.Counts{Sent: 2, Skipped: 1}) {
		t.Errorf("Counts = %+v, want 2 sent and 1 skipped", c)
	}
}

func readEvents(t *testing.T, path string) []model.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var events []model.Event
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		var ev model.Event
		if err := json.Unmarshal(scanner.Bytes(), &ev); err != nil {
			t.Fatalf("line %q is not an event: %v", scanner.Text(), err)
		}
		events = append(events, ev)
	}
	return events
}

func TestFileNotifierConfigErrors(t *testing.T) {
	cases := map[string]string{
		`{"type":"file"}`:                                     "notifier 0 (file): path: missing",
		`{"type":"file","path":"events.jsonl"}`:               "path: \"events.jsonl\" is relative",
		`{"type":"file","path":"/nonexistent/dir/e.jsonl"}`:   "path: directory /nonexistent/dir does not exist",
		`{"type":"file","path":"/tmp/e.jsonl","mode":"0600"}`: "mode: unknown field",
	}
	for config, want := range cases {
		_, err := notifiers.Build("[" + config + "]")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s) error = %v, want it to contain %q", config, err, want)
		}
	}
}
