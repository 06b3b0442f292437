package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kamerrezz/theminidog/model"
)

// Comparison operators a rule may use.
const (
	OpAbove = ">"
	OpBelow = "<"
)

// AllHosts is the rule host that selects every host.
const AllHosts = "*"

// Rule is one alert rule as configured in ALERT_RULES or ALERT_RULES_FILE.
type Rule struct {
	// ID names the rule in events and the API; it is unique.
	ID string `json:"id"`
	// Host is the host to watch, or AllHosts.
	Host string `json:"host"`
	// Name is an allowlisted metric name.
	Name string `json:"name"`
	// Op is OpAbove or OpBelow: the condition is "value Op Threshold".
	Op        string  `json:"op"`
	Threshold float64 `json:"threshold"`
	// For is how long the condition must hold before the alert fires. With
	// 0 it fires at the first evaluation that finds the condition met.
	For Duration `json:"for"`
	// Labels keeps only series whose labels contain every pair. Without it
	// each series of the metric (each core, mount or interface) is its own
	// alert.
	Labels map[string]string `json:"labels,omitempty"`
	// ClearThreshold, when set, replaces Threshold for ending a firing alert:
	// it stays firing while "value Op ClearThreshold" holds.
	ClearThreshold *float64 `json:"clear_threshold,omitempty"`
	// Repeat, when not 0, sends the firing event again at this period while
	// the alert keeps firing.
	Repeat Duration `json:"repeat,omitempty"`
	// SendResolved sends an event when a firing alert resolves; it defaults
	// to true.
	SendResolved bool `json:"send_resolved"`
}

// breaches reports whether v meets the condition that starts an alert.
func (r *Rule) breaches(v float64) bool {
	return compare(r.Op, v, r.Threshold)
}

// keepsFiring reports whether a firing alert with value v stays firing.
func (r *Rule) keepsFiring(v float64) bool {
	limit := r.Threshold
	if r.ClearThreshold != nil {
		limit = *r.ClearThreshold
	}
	return compare(r.Op, v, limit)
}

func compare(op string, v, limit float64) bool {
	if op == OpBelow {
		return v < limit
	}
	return v > limit
}

// ruleInput is a rule as written in the configuration. Pointers tell a
// missing field from a zero value.
type ruleInput struct {
	ID             string            `json:"id"`
	Host           string            `json:"host"`
	Name           string            `json:"name"`
	Op             string            `json:"op"`
	Threshold      *float64          `json:"threshold"`
	For            *string           `json:"for"`
	Labels         map[string]string `json:"labels"`
	ClearThreshold *float64          `json:"clear_threshold"`
	Repeat         *string           `json:"repeat"`
	SendResolved   *bool             `json:"send_resolved"`
}

// RuleError is one problem in one rule of the configuration.
type RuleError struct {
	// Index is the rule's position in the JSON array, from 0.
	Index int
	// ID is the rule's id, empty when missing.
	ID string
	// Field is the JSON field at fault, empty for the rule as a whole.
	Field string
	Msg   string
}

func (e *RuleError) Error() string {
	id := "no id"
	if e.ID != "" {
		id = fmt.Sprintf("id %q", e.ID)
	}
	if e.Field == "" {
		return fmt.Sprintf("rules[%d] (%s): %s", e.Index, id, e.Msg)
	}
	return fmt.Sprintf("rules[%d] (%s): %s: %s", e.Index, id, e.Field, e.Msg)
}

// LoadRules reads the rules from ALERT_RULES (inline) or ALERT_RULES_FILE
// (a path); at most one may be set. Neither set means no rules. Every
// problem is returned, each line naming the variable, the rule's index and
// its id.
func LoadRules(inline, file string) ([]Rule, error) {
	var (
		source string
		data   []byte
	)
	switch {
	case inline != "" && file != "":
		return nil, errors.New("ALERT_RULES: set ALERT_RULES or ALERT_RULES_FILE, not both")
	case file != "":
		source = "ALERT_RULES_FILE " + file
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("ALERT_RULES_FILE: %w", err)
		}
		data = raw
	case inline != "":
		source, data = "ALERT_RULES", []byte(inline)
	default:
		return nil, nil
	}

	rules, err := ParseRules(data)
	if err != nil {
		return nil, prefixErrors(source, err)
	}
	return rules, nil
}

// ParseRules parses and validates a JSON array of rules. The error joins
// every problem found, each a *RuleError unless the input is not a JSON
// array.
func ParseRules(data []byte) ([]Rule, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("not a JSON array of rules: %w", err)
	}

	rules := make([]Rule, 0, len(raws))
	firstIndex := map[string]int{}
	var errs []error
	for i, raw := range raws {
		r, ruleErrs := parseRule(i, raw)
		if prev, dup := firstIndex[r.ID]; dup && r.ID != "" {
			ruleErrs = append(ruleErrs, &RuleError{Index: i, ID: r.ID, Field: "id", Msg: fmt.Sprintf("duplicate of rules[%d]: give every rule a unique id", prev)})
		} else if r.ID != "" {
			firstIndex[r.ID] = i
		}
		errs = append(errs, ruleErrs...)
		rules = append(rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rules, nil
}

// parseRule decodes and checks one rule, returning every problem found.
func parseRule(i int, raw json.RawMessage) (Rule, []error) {
	var head struct {
		ID any `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Rule{}, []error{&RuleError{Index: i, Msg: "expected a JSON object"}}
	}
	id, _ := head.ID.(string)

	var in ruleInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Rule{ID: id}, []error{decodeError(i, id, err)}
	}
	return in.validate(i)
}

func decodeError(i int, id string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return &RuleError{Index: i, ID: id, Field: typeErr.Field, Msg: fmt.Sprintf("expected %s, got JSON %s", typeErr.Type, typeErr.Value)}
	}
	return &RuleError{Index: i, ID: id, Msg: strings.TrimPrefix(err.Error(), "json: ")}
}

// validate checks every field and builds the rule with defaults applied.
func (in *ruleInput) validate(i int) (Rule, []error) {
	r := Rule{ID: in.ID, Host: in.Host, Name: in.Name, Op: in.Op, Labels: in.Labels, ClearThreshold: in.ClearThreshold, SendResolved: true}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, &RuleError{Index: i, ID: in.ID, Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	if strings.TrimSpace(in.ID) == "" {
		fail("id", "missing: give every rule a unique id")
	}
	if strings.TrimSpace(in.Host) == "" {
		fail("host", `missing: name a host, or "*" for every host`)
	}
	if !model.IsKnownMetric(in.Name) {
		fail("name", "unknown metric %q: use one of %s", in.Name, strings.Join(model.MetricNames(), ", "))
	}
	if in.Op != OpAbove && in.Op != OpBelow {
		fail("op", `%q is not ">" or "<"`, in.Op)
	}
	if in.Threshold == nil {
		fail("threshold", "missing: give the value the metric is compared with")
	} else {
		r.Threshold = *in.Threshold
	}
	for k, v := range in.Labels {
		if !model.ValidLabelKey(k) {
			fail("labels."+k, "label key must be letters, digits and underscores, not starting with a digit")
		}
		if v == "" {
			fail("labels."+k, "empty label value")
		}
	}
	if in.SendResolved != nil {
		r.SendResolved = *in.SendResolved
	}

	for _, d := range []struct {
		field string
		raw   *string
		dst   *Duration
	}{{"for", in.For, &r.For}, {"repeat", in.Repeat, &r.Repeat}} {
		if d.raw == nil {
			continue
		}
		v, err := parseDuration(*d.raw)
		if err != nil {
			fail(d.field, "%v", err)
		}
		*d.dst = Duration(v)
	}

	if msg := checkClearThreshold(r); msg != "" {
		fail("clear_threshold", "%s", msg)
	}
	return r, errs
}

// checkClearThreshold returns a problem when the clear threshold lies on the
// wrong side of the threshold, where an alert would resolve as it fires.
func checkClearThreshold(r Rule) string {
	if r.ClearThreshold == nil || (r.Op != OpAbove && r.Op != OpBelow) {
		return ""
	}
	c := *r.ClearThreshold
	if r.Op == OpAbove && c > r.Threshold {
		return fmt.Sprintf("%v is above threshold %v: with op \">\" it must be at or below the threshold", c, r.Threshold)
	}
	if r.Op == OpBelow && c < r.Threshold {
		return fmt.Sprintf("%v is below threshold %v: with op \"<\" it must be at or above the threshold", c, r.Threshold)
	}
	return ""
}

// prefixErrors puts source before each error joined in err.
func prefixErrors(source string, err error) error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return fmt.Errorf("%s: %w", source, err)
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, fmt.Errorf("%s: %w", source, e))
	}
	return errors.Join(out...)
}
