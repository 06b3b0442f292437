package browsertest

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// The formatting below writes values the way the dashboard's JavaScript
// does, so that tests compute the expected text from their data.
//
// NOTE: JavaScript's toFixed rounds an exact binary tie (such as 0.125 to
// two decimals) up, but strconv rounds it to even. Test data should avoid
// such values.

var binaryUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

func decimalsFor(abs float64) int {
	switch {
	case abs >= 100:
		return 0
	case abs >= 10:
		return 1
	default:
		return 2
	}
}

// FormatBytes writes a byte count with binary prefixes and three
// significant digits: 512 B, 1.50 KiB, 12.3 MiB, 931 GiB.
func FormatBytes(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	sign := ""
	if v < 0 {
		sign = "-"
	}
	abs := math.Abs(v)
	if abs < 1024 {
		return sign + strconv.FormatFloat(abs, 'f', 0, 64) + " B"
	}

	unit := 0
	for abs >= 1024 && unit < len(binaryUnits)-1 {
		abs /= 1024
		unit++
	}
	text := strconv.FormatFloat(abs, 'f', decimalsFor(abs), 64)
	if rounded, _ := strconv.ParseFloat(text, 64); rounded >= 1024 && unit < len(binaryUnits)-1 {
		abs /= 1024
		unit++
		text = strconv.FormatFloat(abs, 'f', decimalsFor(abs), 64)
	}
	return sign + text + " " + binaryUnits[unit]
}

// FormatRate writes bytes per second: 1.25 MiB/s.
func FormatRate(v float64) string {
	text := FormatBytes(v)
	if text == "–" {
		return text
	}
	return text + "/s"
}

// FormatPercent writes a percentage with one decimal: 42.5%.
func FormatPercent(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// FormatDateTime writes t in loc as the dashboard does: 2006-01-02 15:04:05.
func FormatDateTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.DateTime)
}

// FormatClock writes t in loc as HH:MM:SS.
func FormatClock(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.TimeOnly)
}

// statusOrder is the sidebar's order of host statuses.
var statusOrder = map[string]int{"down": 0, "stale": 1, "unknown": 2, "ok": 3}

// SortedHostNames returns the host names in the sidebar's order: down,
// stale, unknown, ok (an unrecognised status counts as unknown), then by
// name in byte order.
func SortedHostNames(hosts []Host) []string {
	sorted := append([]Host(nil), hosts...)
	rank := func(status string) int {
		if r, ok := statusOrder[status]; ok {
			return r
		}
		return statusOrder["unknown"]
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		ri, rj := rank(sorted[i].Status), rank(sorted[j].Status)
		if ri != rj {
			return ri < rj
		}
		return sorted[i].Name < sorted[j].Name
	})
	names := make([]string, len(sorted))
	for i, h := range sorted {
		names[i] = h.Name
	}
	return names
}
