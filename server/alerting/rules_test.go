package alerting_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/server/alerting"
)

func TestParseRulesDefaults(t *testing.T) {
	rules := parseRules(t, `[
		{"id": "cpu", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90, "for": "5m"},
		{"id": "disk", "host": "db-1", "name": "disk.used_pct", "op": ">", "threshold": 92,
		 "labels": {"mount": "/data"}, "clear_threshold": 85, "repeat": "1h30m", "send_resolved": false},
		{"id": "mem-low", "host": "*", "name": "mem.used_pct", "op": "<", "threshold": 1}
	]`)
	if len(rules) != 3 {
		t.Fatalf("got %d rules, want 3", len(rules))
	}

	cpu, disk, mem := rules[0], rules[1], rules[2]
	if cpu.Host != alerting.AllHosts || time.Duration(cpu.For) != 5*time.Minute || !cpu.SendResolved || cpu.ClearThreshold != nil || cpu.Repeat != 0 {
		t.Errorf("cpu rule = %+v, want every host, for 5m, send_resolved true, no clear threshold or repeat", cpu)
	}
	if disk.Labels["mount"] != "/data" || *disk.ClearThreshold != 85 || time.Duration(disk.Repeat) != 90*time.Minute || disk.SendResolved {
		t.Errorf("disk rule = %+v, want mount /data, clear 85, repeat 1h30m, send_resolved false", disk)
	}
	if mem.Op != alerting.OpBelow || mem.For != 0 {
		t.Errorf("mem rule = %+v, want op < and for 0", mem)
	}
}

func TestRuleJSONUsesCompactDurations(t *testing.T) {
	rules := parseRules(t, `[{"id": "d", "host": "h", "name": "disk.used_pct", "op": ">", "threshold": 92, "for": "90s", "repeat": "3600s"}]`)
	raw, err := json.Marshal(rules[0])
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if got["for"] != "90s" {
		t.Errorf("for = %v, want \"90s\"", got["for"])
	}
	if got["repeat"] != "1h" {
		t.Errorf("repeat = %v, want \"1h\"", got["repeat"])
	}
	if got["send_resolved"] != true {
		t.Errorf("send_resolved = %v, want true", got["send_resolved"])
	}
	if _, ok := got["clear_threshold"]; ok {
		t.Errorf("clear_threshold present though unset: %s", raw)
	}
}

func TestParseRulesErrors(t *testing.T) {
	const ok = `"host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90`
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{"missing id", `[{` + ok + `}]`, []string{"rules[0] (no id)", "id: missing"}},
		{"duplicate id", `[{"id": "a", ` + ok + `}, {"id": "a", ` + ok + `}]`, []string{`rules[1] (id "a")`, "duplicate of rules[0]"}},
		{"unknown metric", `[{"id": "a", "host": "*", "name": "cpu.usage", "op": ">", "threshold": 1}]`, []string{`rules[0] (id "a")`, `name: unknown metric "cpu.usage"`, "cpu.usage_pct"}},
		{"bad op", `[{"id": "a", "host": "*", "name": "cpu.usage_pct", "op": ">=", "threshold": 1}]`, []string{`op: ">=" is not ">" or "<"`}},
		{"bad for", `[{"id": "a", ` + ok + `, "for": "5 minutes"}]`, []string{`for: invalid duration "5 minutes"`}},
		{"negative repeat", `[{"id": "a", ` + ok + `, "repeat": "-1m"}]`, []string{`repeat: duration "-1m" is negative`}},
		{"missing threshold", `[{"id": "a", "host": "*", "name": "cpu.usage_pct", "op": ">"}]`, []string{"threshold: missing"}},
		{"missing host", `[{"id": "a", "name": "cpu.usage_pct", "op": ">", "threshold": 1}]`, []string{"host: missing"}},
		{"unknown field", `[{"id": "a", ` + ok + `, "treshold": 5}]`, []string{`rules[0] (id "a")`, `unknown field "treshold"`}},
		{"wrong type", `[{"id": "a", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": "90"}]`, []string{`rules[0] (id "a")`, "threshold: expected float64, got JSON string"}},
		{"bad label key", `[{"id": "a", ` + ok + `, "labels": {"0core": "1"}}]`, []string{"labels.0core: label key"}},
		{"clear above threshold", `[{"id": "a", ` + ok + `, "clear_threshold": 95}]`, []string{"clear_threshold: 95 is above threshold 90"}},
		{"clear below threshold for <", `[{"id": "a", "host": "*", "name": "mem.used_pct", "op": "<", "threshold": 10, "clear_threshold": 5}]`, []string{"clear_threshold: 5 is below threshold 10"}},
		{"not an object", `[42]`, []string{"rules[0] (no id): expected a JSON object"}},
		{"not an array", `{"id": "a"}`, []string{"not a JSON array of rules"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := alerting.ParseRules([]byte(c.input))
			if err == nil {
				t.Fatalf("no error, rules %+v", rules)
			}
			for _, part := range c.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestParseRulesReportsEveryProblem(t *testing.T) {
	_, err := alerting.ParseRules([]byte(`[
		{"id": "a", "host": "*", "name": "nope", "op": "=", "threshold": 1},
		{"id": "b", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 1, "for": "x"}
	]`))
	var ruleErr *alerting.RuleError
	if !errors.As(err, &ruleErr) {
		t.Fatalf("err = %v, want a *RuleError", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d problems, want 3 (name, op, for):\n%s", len(lines), err)
	}
}

func TestLoadRulesSources(t *testing.T) {
	rule := `[{"id": "a", "host": "*", "name": "cpu.usage_pct", "op": ">", "threshold": 90}]`
	file := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(file, []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}

	if rules, err := alerting.LoadRules("", ""); err != nil || rules != nil {
		t.Errorf("no source: rules %v, err %v; want none and no error", rules, err)
	}
	if rules, err := alerting.LoadRules(rule, ""); err != nil || len(rules) != 1 {
		t.Errorf("inline: rules %v, err %v; want one rule", rules, err)
	}
	if rules, err := alerting.LoadRules("", file); err != nil || len(rules) != 1 {
		t.Errorf("file: rules %v, err %v; want one rule", rules, err)
	}
	if _, err := alerting.LoadRules(rule, file); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("both sources: err = %v, want one naming both variables", err)
	}
	if _, err := alerting.LoadRules("", filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "ALERT_RULES_FILE") {
		t.Errorf("missing file: err = %v, want one naming ALERT_RULES_FILE", err)
	}

	_, err := alerting.LoadRules(`[{"id": "a", "host": "*", "name": "x", "op": ">", "threshold": 1}]`, "")
	if err == nil || !strings.HasPrefix(err.Error(), `ALERT_RULES: rules[0] (id "a"): name:`) {
		t.Errorf("bad inline rule: err = %v, want it to start with the variable, index and id", err)
	}
}
