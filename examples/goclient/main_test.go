package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/servertest"
)

func TestPushAndQueryAgainstServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	cfg := Config{ServerURL: srv.URL + "/", Secret: servertest.Secret, Host: "goclient-test"}

	res, err := PushAndQuery(context.Background(), cfg)
	if err != nil {
		t.Fatalf("push and query: %v", err)
	}

	if res.Ingested != len(res.Batch.Metrics) {
		t.Errorf("ingested %d, want %d", res.Ingested, len(res.Batch.Metrics))
	}
	if !res.Retry.Duplicate || res.Retry.Ingested != 0 {
		t.Errorf("second push = %+v, want duplicate with 0 ingested", res.Retry)
	}

	// Each sample sits in its own minute, so each bucket's average is the
	// sample itself.
	var want []QueryPoint
	for _, m := range res.Batch.Metrics {
		if m.Name == model.MemUsedPct {
			want = append(want, QueryPoint{Time: m.Time.Truncate(time.Minute), Value: m.Value})
		}
	}
	got := res.Answer.Points
	if len(got) != len(want) {
		t.Fatalf("points = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Value != want[i].Value {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRunPrintsPoints(t *testing.T) {
	srv := servertest.Start(t, nil)
	var out bytes.Buffer

	err := run(context.Background(), Config{ServerURL: srv.URL, Secret: servertest.Secret, Host: "goclient-run"}, &out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, want := range []string{"pushed 6 points for host goclient-run", "duplicate=true", "30.00", "40.00", "50.00"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWrongSecretRejected(t *testing.T) {
	srv := servertest.Start(t, nil)

	_, err := PushAndQuery(context.Background(), Config{ServerURL: srv.URL, Secret: "not-the-server-secret", Host: "h"})
	if err == nil || !strings.Contains(err.Error(), "status 401") {
		t.Fatalf("error = %v, want a 401 with the server's message", err)
	}
}

func TestMissingSettings(t *testing.T) {
	_, err := PushAndQuery(context.Background(), Config{})
	if err == nil {
		t.Fatal("no error, want one naming SERVER_URL and AGENT_TOKEN")
	}
	for _, name := range []string{"SERVER_URL", "AGENT_TOKEN"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}
