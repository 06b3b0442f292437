package notifiers_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	_ "github.com/kamerrezz/theminidog/notifiers/all"
)

func TestBuiltinTypesRegistered(t *testing.T) {
	types := notifiers.Types()

	for _, want := range []string{"discord", "email", "pagerduty", "slack", "webhook"} {
		found := false
		for _, typ := range types {
			found = found || typ == want
		}
		if !found {
			t.Errorf("type %q not registered; registered: %v", want, types)
		}
	}
}

func TestBuildMixedList(t *testing.T) {
	config := `[
		{"type": "webhook", "url": "https://hooks.example.com/a", "secret": "s"},
		{"type": "slack", "url": "https://hooks.example.com/services/T/B/x", "send_resolved": false},
		{"type": "discord", "url": "https://discord.example.com/api/webhooks/1/x"},
		{"type": "pagerduty", "routing_key": "0123456789abcdef0123456789abcdef", "severity": "warning"},
		{"type": "email", "host": "smtp.example.com", "from": "alerts@example.com", "to": ["ops@example.com"]},
		{"type": "webhook", "url": "http://127.0.0.1:9/b"}
	]`

	list, err := notifiers.Build(config)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}

	want := []string{"webhook", "slack", "discord", "pagerduty", "email", "webhook"}
	if len(list) != len(want) {
		t.Fatalf("Build returned %d notifiers, want %d", len(list), len(want))
	}
	for i, n := range list {
		if n.Type() != want[i] {
			t.Errorf("notifier %d has type %q, want %q", i, n.Type(), want[i])
		}
	}

	resolved := model.Event{Event: model.EventResolved}
	if s, ok := list[1].(notifiers.Skipper); !ok || !s.Skips(resolved) {
		t.Error("slack with send_resolved false does not skip resolved events")
	}
	if s, ok := list[0].(notifiers.Skipper); !ok || s.Skips(resolved) {
		t.Error("webhook with the default send_resolved skips resolved events")
	}
}

func TestBuildEmpty(t *testing.T) {
	for _, config := range []string{"", "  ", "[]", "null"} {
		list, err := notifiers.Build(config)
		if err != nil || len(list) != 0 {
			t.Errorf("Build(%q) = %d notifiers, %v; want none and no error", config, len(list), err)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name   string
		config string
		want   string
	}{
		{"not an array", `{"type":"webhook"}`, "not a JSON array of notifier objects"},
		{"not an object", `["webhook"]`, "notifier 0: not a JSON object"},
		{"missing type", `[{"url":"https://x.example.com"}]`, "notifier 0: type: missing: set it to one of discord, email, pagerduty, slack, webhook"},
		{"empty type", `[{"type":""}]`, "notifier 0: type: empty: set it to one of discord, email"},
		{"type not a string", `[{"type":7}]`, "notifier 0: type: invalid value: expected a string"},
		{"unknown type", `[{"type":"teams","url":"https://x.example.com"}]`, `notifier 0: type: unknown notifier type "teams": use one of discord, email, pagerduty, slack, webhook`},
		{"second entry", `[{"type":"webhook","url":"https://x.example.com"},{"type":"slack"}]`, "notifier 1 (slack): url: missing"},
		{"trailing data", `[{"type":"webhook","url":"https://x.example.com"} {"x":1}]`, "not a JSON array"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := notifiers.Build(tc.config)

			if err == nil {
				t.Fatalf("Build accepted %s", tc.config)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestBuildUnknownTypeListsRegisteredTypes(t *testing.T) {
	_, err := notifiers.Build(`[{"type":"sms"}]`)

	if err == nil {
		t.Fatal("Build accepted an unknown type")
	}
	for _, typ := range notifiers.Types() {
		if !strings.Contains(err.Error(), typ) {
			t.Errorf("error %q does not list registered type %q", err, typ)
		}
	}
}

func TestRegisterPanics(t *testing.T) {
	factory := func(json.RawMessage) (notifiers.Notifier, error) { return nil, errors.New("unused") }
	cases := map[string]func(){
		"duplicate": func() { notifiers.Register("webhook", factory) },
		"empty":     func() { notifiers.Register("", factory) },
		"nil":       func() { notifiers.Register("registry-test-nil", nil) },
	}
	for name, register := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			register()
		})
	}
}

type decodeTarget struct {
	notifiers.Common
	URL   string   `json:"url"`
	Port  int      `json:"port,omitempty"`
	To    []string `json:"to"`
	Extra struct {
		Inner string `json:"inner"`
	} `json:"extra"`
}

func TestDecodeConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want string
	}{
		{"unknown field", `{"type":"x","urll":"a"}`, "urll: unknown field: remove it or fix its spelling (accepted: extra, port, send_resolved, to, type, url)"},
		{"string for number", `{"type":"x","port":"587"}`, "port: invalid value: expected a whole number, got a JSON string"},
		{"string for array", `{"type":"x","to":"ops@example.com"}`, "to: invalid value: expected an array of strings, got a JSON string"},
		{"number in array", `{"type":"x","to":[1]}`, "to: invalid value: expected a string, got a JSON number"},
		{"array for object", `[1]`, "expected a JSON object, got a JSON array"},
		{"syntax", `{"type":"x",}`, "invalid JSON at byte"},
		{"two objects", `{"type":"x"}{"type":"y"}`, "unexpected data after the config object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst decodeTarget
			err := notifiers.DecodeConfig(json.RawMessage(tc.raw), &dst)

			if err == nil {
				t.Fatalf("DecodeConfig accepted %s", tc.raw)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDecodeConfigFilter(t *testing.T) {
	resolved := model.Event{Event: model.EventResolved}
	cases := []struct {
		raw      string
		skipsRes bool
	}{
		{`{"type":"x"}`, false},
		{`{"type":"x","send_resolved":true}`, false},
		{`{"type":"x","send_resolved":false}`, true},
	}
	for _, tc := range cases {
		var dst decodeTarget
		if err := notifiers.DecodeConfig(json.RawMessage(tc.raw), &dst); err != nil {
			t.Fatalf("DecodeConfig(%s): %v", tc.raw, err)
		}
		filter := dst.Filter()

		if got := filter.Skips(resolved); got != tc.skipsRes {
			t.Errorf("%s: Skips(resolved) = %v, want %v", tc.raw, got, tc.skipsRes)
		}
		for _, kind := range []string{model.EventFiring, model.EventHostDown, model.EventHostUp} {
			if filter.Skips(model.Event{Event: kind}) {
				t.Errorf("%s: Skips(%s) = true, want every non-resolved event delivered", tc.raw, kind)
			}
		}
	}
}
