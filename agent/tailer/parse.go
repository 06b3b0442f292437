package tailer

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

// scanPrefix bounds how far into a plain-text line the level and timestamp
// are searched for; they sit at the start in every common format.
const scanPrefix = 160

// clfLayout is the timestamp of the common and combined log formats, as in
// [10/Oct/2000:13:55:36 -0700].
const clfLayout = "02/Jan/2006:15:04:05 -0700"

// Keys looked up, case-insensitively, in JSON and logfmt lines.
var (
	levelKeys = []string{"level", "severity", "lvl", "loglevel", "log.level"}
	timeKeys  = []string{"time", "ts", "timestamp", "@timestamp"}
)

// levelSynonyms maps level names that model.NormalizeLevel does not know
// (java.util.logging, syslog) to names it does.
var levelSynonyms = map[string]string{
	"severe":      "error",
	"emerg":       "error",
	"emergency":   "error",
	"alert":       "error",
	"fine":        "debug",
	"finer":       "debug",
	"finest":      "debug",
	"verbose":     "debug",
	"dbg":         "debug",
	"information": "info",
	"config":      "info",
}

// parseLine returns the level and, when the line carries one, the event
// time of a log line. The level defaults to info; the time is zero when
// absent.
func parseLine(line string) (level string, ts time.Time) {
	if level, ts, ok := parseJSON(line); ok {
		return level, ts
	}

	level, ok := plainLevel(line)
	if !ok {
		level = model.LevelInfo
	}
	return level, plainTime(line)
}

// levelFromWord normalises one level word such as "WARN" or "Error".
func levelFromWord(word string) (string, bool) {
	word = strings.ToLower(strings.TrimSpace(word))
	if syn, ok := levelSynonyms[word]; ok {
		word = syn
	}
	return model.NormalizeLevel(word)
}

// parseJSON reads the level and time of a line that is one JSON object.
func parseJSON(line string) (string, time.Time, bool) {
	trimmed := strings.TrimSpace(line)
	if !strings.HasPrefix(trimmed, "{") || !strings.HasSuffix(trimmed, "}") {
		return "", time.Time{}, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &fields); err != nil {
		return "", time.Time{}, false
	}

	level := model.LevelInfo
	if raw, ok := lookupFold(fields, levelKeys); ok {
		if l, ok := jsonLevel(raw); ok {
			level = l
		}
	}
	var ts time.Time
	if raw, ok := lookupFold(fields, timeKeys); ok {
		ts = jsonTime(raw)
	}
	return level, ts, true
}

// lookupFold returns the value of the first key, in the order given, that
// the object has under any capitalisation.
func lookupFold(fields map[string]json.RawMessage, keys []string) (json.RawMessage, bool) {
	for _, want := range keys {
		for k, v := range fields {
			if strings.EqualFold(k, want) {
				return v, true
			}
		}
	}
	return nil, false
}

// jsonLevel accepts a level name or a number. Numbers of 10 and more follow
// pino and bunyan (10 trace ... 60 fatal); smaller ones are syslog
// severities (0 emergency ... 7 debug).
func jsonLevel(raw json.RawMessage) (string, bool) {
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		return levelFromWord(name)
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false
	}
	switch {
	case n >= 50 || (n >= 0 && n <= 3):
		return model.LevelError, true
	case n >= 40 || n == 4:
		return model.LevelWarn, true
	case n >= 30 || n == 5 || n == 6:
		return model.LevelInfo, true
	case n >= 7:
		return model.LevelDebug, true
	}
	return "", false
}

// jsonTime accepts an RFC 3339 string or a Unix epoch number in seconds,
// milliseconds, microseconds or nanoseconds, distinguished by magnitude.
func jsonTime(raw json.RawMessage) time.Time {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return parseRFC3339(s)
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil || n <= 0 || math.IsInf(n, 0) {
		return time.Time{}
	}
	switch {
	case n < 1e11:
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC()
	case n < 1e14:
		return time.UnixMilli(int64(n)).UTC()
	case n < 1e17:
		return time.UnixMicro(int64(n)).UTC()
	default:
		return time.Unix(0, int64(n)).UTC()
	}
}

func parseRFC3339(s string) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return ts.UTC()
}

// plainLevel finds the level of a non-JSON line. A line that starts with a
// key=value pair is read as logfmt first, so that bracketed words inside
// its message do not count.
func plainLevel(line string) (string, bool) {
	head := prefix(line, scanPrefix)
	first, _, _ := strings.Cut(head, " ")

	if strings.Contains(first, "=") {
		if l, ok := logfmtLevel(line); ok {
			return l, true
		}
	}
	for _, find := range []func(string) (string, bool){glogLevel, bracketLevel, leadingWordLevel} {
		if l, ok := find(head); ok {
			return l, true
		}
	}
	return logfmtLevel(line)
}

// glogLevel reads the severity letter of klog and glog lines, as in
// "E0101 12:00:00.000000 1 main.go:10] message".
func glogLevel(line string) (string, bool) {
	if len(line) < 8 || line[5] != ' ' || !isDigits(line[1:5]) || !isDigit(line[6]) {
		return "", false
	}
	switch line[0] {
	case 'I':
		return model.LevelInfo, true
	case 'W':
		return model.LevelWarn, true
	case 'E', 'F':
		return model.LevelError, true
	}
	return "", false
}

// bracketLevel finds a level word in brackets, as in "[ERROR]" or
// "2024/01/02 10:00:00 [warn] 12#0: ...".
func bracketLevel(head string) (string, bool) {
	for _, group := range bracketGroups(head) {
		if l, ok := levelFromWord(group); ok {
			return l, true
		}
	}
	return "", false
}

// bracketGroups returns the contents of the bracket pairs in s, in order.
func bracketGroups(s string) []string {
	var groups []string
	for {
		open := strings.IndexByte(s, '[')
		if open < 0 {
			return groups
		}
		end := strings.IndexByte(s[open:], ']')
		if end < 0 {
			return groups
		}
		groups = append(groups, s[open+1:open+end])
		s = s[open+end+1:]
	}
}

// leadingWordLevel finds a level word among the first six words, which
// reaches past a syslog prefix ("Jan  2 10:00:00 host app[12]: WARN ...").
// The first word matches in any case ("ERROR:root:msg", "info: started").
// Later words match only in capitals or after timestamp words, so that
// "user info updated" is not read as a level.
func leadingWordLevel(head string) (string, bool) {
	words := strings.Fields(head)
	if len(words) > 6 {
		words = words[:6]
	}

	afterTimestamp := true
	for i, word := range words {
		w := strings.Trim(word, "[]()<>:|,;-")
		if i == 0 {
			w = leadingLetters(word)
		}

		caseOK := i == 0 || afterTimestamp || w == strings.ToUpper(w)
		if l, ok := levelFromWord(w); ok && caseOK && isLetters(w) {
			return l, true
		}

		bare := strings.TrimLeft(word, "[(")
		afterTimestamp = afterTimestamp && bare != "" && isDigit(bare[0])
	}
	return "", false
}

// logfmtLevel reads a level=, lvl= or severity= field.
func logfmtLevel(line string) (string, bool) {
	for _, key := range levelKeys {
		if v, ok := logfmtValue(line, key); ok {
			return levelFromWord(v)
		}
	}
	return "", false
}

// logfmtValue returns the value of key=value in line, where the key starts
// the line or follows a space and the value may be double-quoted.
func logfmtValue(line, key string) (string, bool) {
	needle := key + "="
	for from := 0; from < len(line); {
		i := strings.Index(line[from:], needle)
		if i < 0 {
			return "", false
		}
		i += from
		if i == 0 || line[i-1] == ' ' {
			return readLogfmtValue(line[i+len(needle):]), true
		}
		from = i + len(needle)
	}
	return "", false
}

func readLogfmtValue(s string) string {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return s[1:i]
			}
		}
		return s[1:]
	}
	v, _, _ := strings.Cut(s, " ")
	return v
}

// plainTime finds the event time of a non-JSON line: a leading RFC 3339
// token, a logfmt time=/ts= field or a common log format timestamp.
func plainTime(line string) time.Time {
	head := prefix(line, scanPrefix)
	first, _, _ := strings.Cut(head, " ")

	if ts := parseRFC3339(strings.Trim(first, "[]")); !ts.IsZero() {
		return ts
	}
	for _, key := range timeKeys {
		if v, ok := logfmtValue(line, key); ok {
			if ts := parseRFC3339(v); !ts.IsZero() {
				return ts
			}
		}
	}
	for _, group := range bracketGroups(head) {
		if ts, err := time.Parse(clfLayout, group); err == nil {
			return ts.UTC()
		}
	}
	return time.Time{}
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func leadingLetters(s string) string {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return s[:i]
		}
	}
	return s
}

func isLetters(s string) bool {
	return s != "" && leadingLetters(s) == s
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
