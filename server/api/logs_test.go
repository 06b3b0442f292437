package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/servertest"
)

type logsAnswer struct {
	Entries []struct {
		ID      int64     `json:"id"`
		Time    time.Time `json:"time"`
		Host    string    `json:"host"`
		Path    string    `json:"path"`
		Level   string    `json:"level"`
		Message string    `json:"message"`
	} `json:"entries"`
	NextCursor *string `json:"next_cursor"`
}

func queryLogs(t *testing.T, base, tok string, v url.Values) (response, logsAnswer) {
	t.Helper()
	r := do(t, "GET", base+"/api/v1/logs/query?"+v.Encode(), tok, nil)
	var a logsAnswer
	_ = json.Unmarshal([]byte(r.raw), &a)
	return r, a
}

func postLogs(t *testing.T, base, tok string, b model.LogBatch) response {
	t.Helper()
	return do(t, "POST", base+"/api/v1/logs", tok, mustJSON(t, b))
}

func TestLogsIngestAndFilters(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	messages := []struct{ host, level, msg string }{
		{"a", "INFO", "service started"},
		{"a", "Warning", "disk 95% full"},
		{"a", "error", "user_id missing"},
		{"b", "error", "userXid missing"},
		{"b", "debug", `path C:\temp\x`},
	}
	for i, m := range messages {
		b := model.LogBatch{Host: m.host, Entries: []model.LogEntry{{Time: base.Add(time.Duration(i) * time.Second), Path: "/var/log/app.log", Level: m.level, Message: m.msg}}}
		if r := postLogs(t, srv.URL, tok, b); r.status != 202 || r.body["ingested"] != float64(1) {
			t.Fatalf("post %d: %d %s", i, r.status, r.raw)
		}
	}

	cases := []struct {
		name   string
		params url.Values
		want   []string
	}{
		{"all newest first", url.Values{}, []string{`path C:\temp\x`, "userXid missing", "user_id missing", "disk 95% full", "service started"}},
		{"host", url.Values{"host": {"a"}}, []string{"user_id missing", "disk 95% full", "service started"}},
		{"level normalised", url.Values{"level": {"WARN"}}, []string{"disk 95% full"}},
		{"levels list", url.Values{"level": {"error,debug"}}, []string{`path C:\temp\x`, "userXid missing", "user_id missing"}},
		{"underscore literal", url.Values{"q": {"user_id"}}, []string{"user_id missing"}},
		{"percent literal", url.Values{"q": {"95%"}}, []string{"disk 95% full"}},
		{"backslash literal", url.Values{"q": {`c:\TEMP`}}, []string{`path C:\temp\x`}},
		{"case-insensitive", url.Values{"q": {"STARTED"}}, []string{"service started"}},
		{"time range", url.Values{"from": {base.Add(time.Second).Format(time.RFC3339)}, "to": {base.Add(3 * time.Second).Format(time.RFC3339)}}, []string{"user_id missing", "disk 95% full"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.params.Get("from") == "" {
				tc.params.Set("from", base.Add(-time.Minute).Format(time.RFC3339))
			}
			r, a := queryLogs(t, srv.URL, tok, tc.params)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			var got []string
			for _, e := range a.Entries {
				got = append(got, e.Message)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("messages = %q, want %q", got, tc.want)
			}
		})
	}

	_, a := queryLogs(t, srv.URL, tok, url.Values{"level": {"warn"}, "from": {base.Add(-time.Minute).Format(time.RFC3339)}})
	if len(a.Entries) != 1 || a.Entries[0].Level != "warn" || a.Entries[0].Host != "a" || a.Entries[0].Path != "/var/log/app.log" {
		t.Fatalf("stored entry = %+v, want level normalised to warn", a.Entries)
	}
}

func TestLogsCursorStableWhileNewEntriesArrive(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	// 25 entries; several share a timestamp so ordering relies on the id.
	var entries []model.LogEntry
	for i := range 25 {
		entries = append(entries, model.LogEntry{Time: base.Add(time.Duration(i/3) * time.Second), Level: "info", Message: fmt.Sprintf("m%02d", i)})
	}
	postLogs(t, srv.URL, tok, model.LogBatch{Host: "h", Entries: entries})

	var seen []string
	params := url.Values{"limit": {"10"}, "from": {base.Add(-time.Minute).Format(time.RFC3339)}}
	for page := 0; ; page++ {
		r, a := queryLogs(t, srv.URL, tok, params)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.raw)
		}
		for _, e := range a.Entries {
			seen = append(seen, e.Message)
		}
		if page == 0 {
			// New entries arrive between pages; they are newer than the
			// cursor and must not appear on later pages.
			postLogs(t, srv.URL, tok, model.LogBatch{Host: "h", Entries: []model.LogEntry{{Time: base.Add(30 * time.Minute), Level: "info", Message: "late"}}})
		}
		if a.NextCursor == nil {
			break
		}
		params.Set("cursor", *a.NextCursor)
	}

	if len(seen) != 25 {
		t.Fatalf("paged through %d entries, want 25: %v", len(seen), seen)
	}
	for i, m := range seen {
		if want := fmt.Sprintf("m%02d", 24-i); m != want {
			t.Fatalf("entry %d = %s, want %s (newest first, no repeats)", i, m, want)
		}
	}
}

func TestLogsRejectBadInput(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := servertest.AgentToken(t)
	now := time.Now().UTC()
	entry := model.LogEntry{Time: now, Level: "info", Message: "ok"}

	bad := []struct {
		name   string
		batch  model.LogBatch
		status int
		field  string
	}{
		{"unknown level", model.LogBatch{Host: "h", Entries: []model.LogEntry{entry, {Time: now, Level: "loud", Message: "x"}}}, 400, "entries[1].level"},
		{"huge message", model.LogBatch{Host: "h", Entries: []model.LogEntry{{Time: now, Level: "info", Message: strings.Repeat("x", model.MaxLogMessageLen+1)}}}, 400, "entries[0].message"},
		{"future", model.LogBatch{Host: "h", Entries: []model.LogEntry{{Time: now.Add(time.Hour), Level: "info", Message: "x"}}}, 400, "entries[0].time"},
		{"empty", model.LogBatch{Host: "h"}, 400, "entries"},
		{"no host", model.LogBatch{Entries: []model.LogEntry{entry}}, 400, "host"},
		{"over 1000", model.LogBatch{Host: "h", Entries: make([]model.LogEntry, 1001)}, 413, "entries"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := postLogs(t, srv.URL, tok, tc.batch)
			msg, _ := r.body["error"].(string)
			if r.status != tc.status || !strings.HasPrefix(msg, tc.field) {
				t.Fatalf("got %d %q, want %d naming %s", r.status, msg, tc.status, tc.field)
			}
		})
	}

	params := []struct {
		name  string
		v     url.Values
		field string
	}{
		{"bad level", url.Values{"level": {"loud"}}, "level"},
		{"limit zero", url.Values{"limit": {"0"}}, "limit"},
		{"limit over max", url.Values{"limit": {"1001"}}, "limit"},
		{"from after to", url.Values{"from": {now.Format(time.RFC3339)}, "to": {now.Add(-time.Hour).Format(time.RFC3339)}}, "from"},
		{"forged cursor", url.Values{"cursor": {"bm90LWEtY3Vyc29y"}}, "cursor"},
	}
	for _, tc := range params {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := queryLogs(t, srv.URL, tok, tc.v)
			msg, _ := r.body["error"].(string)
			if r.status != 400 || !strings.HasPrefix(msg, tc.field) {
				t.Fatalf("got %d %q, want 400 naming %s", r.status, msg, tc.field)
			}
		})
	}
}
