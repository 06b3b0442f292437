package notifiers

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// Summary returns a one-line, human-readable description of ev for chat
// messages, mail subjects and incident titles, such as
//
//	[FIRING] cpu.usage_pct > 90 on host-a (core=total): 95.0
//	[RESOLVED] cpu.usage_pct on host-a (core=total): 50.0 (threshold 90), fired for 2m
//	[HOST DOWN] host-a stopped sending data (down since 2025-01-02T03:04:05Z)
//	[HOST UP] host-a is sending data again after 3m down
//
// The event does not carry the rule's operator. For a firing event Summary
// writes ">" when the value is above the threshold and "<" when below,
// because a rule fires only while its strict comparison holds.
func Summary(ev model.Event) string {
	switch ev.Event {
	case model.EventFiring:
		return firingSummary(ev)
	case model.EventResolved:
		return resolvedSummary(ev)
	case model.EventHostDown:
		return hostDownSummary(ev)
	case model.EventHostUp:
		return hostUpSummary(ev)
	default:
		return "[" + strings.ToUpper(ev.Event) + "] " + subject(ev)
	}
}

// Details returns a multi-line description of ev: the Summary line, a blank
// line, then one "Field: value" line per field that is set.
func Details(ev model.Event) string {
	var b strings.Builder
	b.WriteString(Summary(ev))
	b.WriteString("\n\n")

	for _, line := range detailLines(ev) {
		b.WriteString(line[0])
		b.WriteString(":")
		b.WriteString(strings.Repeat(" ", detailWidth-len(line[0])))
		b.WriteString(line[1])
		b.WriteString("\n")
	}
	return b.String()
}

// detailWidth aligns the values of Details one space after the longest
// field name, "Resolved at:".
const detailWidth = len("Resolved at") + 1

func detailLines(ev model.Event) [][2]string {
	lines := [][2]string{{"Event", ev.Event}}

	if ev.RuleID != nil {
		lines = append(lines, [2]string{"Rule", *ev.RuleID})
	}
	if ev.IncidentID != "" {
		lines = append(lines, [2]string{"Incident", ev.IncidentID})
	}
	lines = append(lines, [2]string{"Host", ev.Host})
	if ev.Name != "" {
		lines = append(lines, [2]string{"Metric", ev.Name})
	}
	if len(ev.Labels) > 0 {
		lines = append(lines, [2]string{"Labels", FormatLabels(ev.Labels)})
	}

	if ev.Value != nil {
		lines = append(lines, [2]string{"Value", FormatValue(*ev.Value)})
	}
	if ev.Threshold != nil {
		lines = append(lines, [2]string{"Threshold", formatThreshold(*ev.Threshold)})
	}

	if ev.FiredAt != nil {
		lines = append(lines, [2]string{"Fired at", formatTime(*ev.FiredAt)})
	}
	if ev.ResolvedAt != nil {
		lines = append(lines, [2]string{"Resolved at", formatTime(*ev.ResolvedAt)})
	}
	if d, ok := eventDuration(ev); ok {
		lines = append(lines, [2]string{"Duration", FormatDuration(d)})
	}
	return lines
}

func firingSummary(ev model.Event) string {
	s := "[FIRING] " + metricName(ev)
	if ev.Value != nil && ev.Threshold != nil {
		s += " " + inferOperator(*ev.Value, *ev.Threshold) + " " + formatThreshold(*ev.Threshold)
	}
	s += " on " + ev.Host + labelSuffix(ev.Labels)
	if ev.Value != nil {
		s += ": " + FormatValue(*ev.Value)
	}
	return s
}

func resolvedSummary(ev model.Event) string {
	s := "[RESOLVED] " + metricName(ev) + " on " + ev.Host + labelSuffix(ev.Labels)
	if ev.Value != nil {
		s += ": " + FormatValue(*ev.Value)
	}
	if ev.Threshold != nil {
		s += " (threshold " + formatThreshold(*ev.Threshold) + ")"
	}
	if d, ok := eventDuration(ev); ok {
		s += ", fired for " + FormatDuration(d)
	}
	return s
}

func hostDownSummary(ev model.Event) string {
	s := "[HOST DOWN] " + ev.Host + " stopped sending data"
	if ev.FiredAt != nil {
		s += " (down since " + formatTime(*ev.FiredAt) + ")"
	}
	return s
}

func hostUpSummary(ev model.Event) string {
	s := "[HOST UP] " + ev.Host + " is sending data again"
	if d, ok := eventDuration(ev); ok {
		s += " after " + FormatDuration(d) + " down"
	}
	return s
}

func subject(ev model.Event) string {
	if ev.Name == "" {
		return ev.Host
	}
	return ev.Name + " on " + ev.Host + labelSuffix(ev.Labels)
}

func metricName(ev model.Event) string {
	if ev.Name == "" {
		return "alert"
	}
	return ev.Name
}

func inferOperator(value, threshold float64) string {
	switch {
	case value > threshold:
		return ">"
	case value < threshold:
		return "<"
	default:
		return "="
	}
}

// eventDuration is the time between FiredAt and ResolvedAt when both are set
// and in order.
func eventDuration(ev model.Event) (time.Duration, bool) {
	if ev.FiredAt == nil || ev.ResolvedAt == nil || ev.ResolvedAt.Before(*ev.FiredAt) {
		return 0, false
	}
	return ev.ResolvedAt.Sub(*ev.FiredAt), true
}

func labelSuffix(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	return " (" + FormatLabels(labels) + ")"
}

// FormatLabels writes labels as "key=value" pairs sorted by key and joined by
// ", ", such as "core=total, mount=/".
func FormatLabels(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + labels[k]
	}
	return strings.Join(pairs, ", ")
}

// FormatValue writes a measured value with one decimal ("95.0"), or with
// three significant digits when one decimal would round a small non-zero
// value to zero ("0.042").
func FormatValue(v float64) string {
	if v != 0 && math.Abs(v) < 0.05 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// formatThreshold writes a configured threshold as short as it round-trips,
// so "90" stays "90".
func formatThreshold(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// FormatDuration writes d rounded to the second and without zero units, such
// as "45s", "2m", "1m30s" or "1h30m".
func FormatDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
