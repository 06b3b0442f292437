package discord_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	"github.com/kamerrezz/theminidog/notifiers/discord"
)

func ptr[T any](v T) *T { return &v }

func receiver(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- string(body)
		w.WriteHeader(http.StatusNoContent) // Discord's status without ?wait=true
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func build(t *testing.T, configJSON string) notifiers.Notifier {
	t.Helper()
	list, err := notifiers.Build(configJSON)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return list[0]
}

func TestDiscordMessage(t *testing.T) {
	srv, got := receiver(t)
	n := build(t, `[{"type":"discord","url":"`+srv.URL+`/api/webhooks/1/x"}]`)
	ev := model.Event{
		Event: model.EventFiring, RuleID: ptr("cpu-high"), Host: "host-a", Name: model.CPUUsagePct,
		Labels: map[string]string{"core": "total"}, Value: ptr(95.0), Threshold: ptr(90.0),
	}

	if err := n.Notify(context.Background(), ev); err != nil {
		t.Fatalf("Notify: %v", err)
	}

	want := `{"content":"[FIRING] cpu.usage\\_pct > 90 on host-a (core=total): 95.0","allowed_mentions":{"parse":[]}}`
	if body := <-got; body != want {
		t.Errorf("body =\n%s\nwant\n%s", body, want)
	}
}

func TestDiscordDisablesMentions(t *testing.T) {
	msg := discord.NewMessage(model.Event{Event: model.EventHostDown, Host: "@everyone"})

	body, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"allowed_mentions":{"parse":[]}`) {
		t.Errorf("body %s does not disable mentions", body)
	}
}

func TestDiscordTruncatesLongContent(t *testing.T) {
	labels := map[string]string{"note": strings.Repeat("é", 3000)}
	msg := discord.NewMessage(model.Event{Event: model.EventFiring, Host: "host-a", Name: "x", Labels: labels})

	if n := len(utf16.Encode([]rune(msg.Content))); n > discord.MaxContentLen {
		t.Errorf("content is %d UTF-16 units, limit %d", n, discord.MaxContentLen)
	}
	if !strings.HasSuffix(msg.Content, "…") {
		t.Errorf("cut content does not end with an ellipsis: ...%s", msg.Content[len(msg.Content)-10:])
	}
	if !utf8.ValidString(msg.Content) {
		t.Error("cut content is not valid UTF-8")
	}
	if !strings.HasPrefix(msg.Content, "[FIRING] x on host-a (note=éé") {
		t.Errorf("content lost its start: %.40s", msg.Content)
	}
}

func TestDiscordKeepsShortContent(t *testing.T) {
	msg := discord.NewMessage(model.Event{Event: model.EventHostUp, Host: "host-a"})

	if msg.Content != "[HOST UP] host-a is sending data again" {
		t.Errorf("content = %q", msg.Content)
	}
}

func TestDiscordConfigErrors(t *testing.T) {
	cases := map[string]string{
		`{"type":"discord"}`: "notifier 0 (discord): url: missing",
		`{"type":"discord","url":"ws://x.example.com/hook"}`:                `url: unsupported scheme "ws"`,
		`{"type":"discord","url":"https://x.example.com","username":"bot"}`: "username: unknown field",
	}
	for config, want := range cases {
		_, err := notifiers.Build("[" + config + "]")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s) error = %v, want it to contain %q", config, err, want)
		}
	}
}
