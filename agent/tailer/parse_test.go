package tailer

import (
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		// JSON objects: level, severity, lvl keys in any case, names and numbers.
		{`{"level":"ERROR","msg":"x"}`, model.LevelError},
		{`{"severity":"Warning","msg":"x"}`, model.LevelWarn},
		{`{"lvl":"debug"}`, model.LevelDebug},
		{`{"Level":"info"}`, model.LevelInfo},
		{`{"level":"fatal"}`, model.LevelError},
		{`{"level":50,"msg":"pino error"}`, model.LevelError},
		{`{"level":40}`, model.LevelWarn},
		{`{"level":20}`, model.LevelDebug},
		{`{"severity":3}`, model.LevelError},
		{`{"msg":"no level"}`, model.LevelInfo},
		{`{"level":"chatty"}`, model.LevelInfo},
		{`{"msg": "[ERROR] inside the message", "level": "debug"}`, model.LevelDebug},

		// logfmt.
		{`level=warn msg="disk almost full"`, model.LevelWarn},
		{`time=2024-01-02T03:04:05Z lvl=ERROR msg=x`, model.LevelError},
		{`ts=1 msg="level=debug quoted" level=error`, model.LevelError},
		{`msg="[ERROR] not the level" level=info`, model.LevelInfo},

		// Bracketed words.
		{`[ERROR] disk full`, model.LevelError},
		{`[warn] slow request`, model.LevelWarn},
		{`2024/01/02 10:00:00 [error] 12#0: upstream timed out`, model.LevelError},
		{`[2024-01-02 10:00:00] [main] [DEBUG] starting`, model.LevelDebug},

		// Leading words.
		{`ERROR something broke`, model.LevelError},
		{`WARNING: low disk`, model.LevelWarn},
		{`WARN[0000] deprecated flag`, model.LevelWarn},
		{`FATAL crash`, model.LevelError},
		{`DEBUG cache hit`, model.LevelDebug},
		{`INFO started`, model.LevelInfo},
		{`ERROR:root:failed`, model.LevelError},
		{`SEVERE: boom`, model.LevelError},
		{`2024-01-02 10:00:00,123 ERROR [main] c.e.App - failed`, model.LevelError},
		{`2024-01-02T10:00:00Z warn started late`, model.LevelWarn},
		{`Jan  2 10:00:00 host app[12]: WARN retrying`, model.LevelWarn},

		// glog and klog.
		{`E0101 12:00:00.000000    1 main.go:10] failed`, model.LevelError},
		{`W0101 12:00:00.000000    1 main.go:10] slow`, model.LevelWarn},
		{`I0101 12:00:00.000000    1 main.go:10] ok`, model.LevelInfo},
		{`F0101 12:00:00.000000    1 main.go:10] fatal`, model.LevelError},

		// No level: info, and no false match on ordinary words.
		{`something happened`, model.LevelInfo},
		{`disk error on sda`, model.LevelInfo},
		{`user info updated`, model.LevelInfo},
		{`Errors were found`, model.LevelInfo},
		{`E12 is not glog`, model.LevelInfo},
		{`127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`, model.LevelInfo},
		{``, model.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if got, _ := parseLine(tt.line); got != tt.want {
				t.Errorf("level of %q = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		line string
		want time.Time
	}{
		{`{"time":"2024-01-02T03:04:05.5+02:00","msg":"x"}`, time.Date(2024, 1, 2, 1, 4, 5, 5e8, time.UTC)},
		{`{"ts":1700000000.25}`, time.Date(2023, 11, 14, 22, 13, 20, 25e7, time.UTC)},
		{`{"timestamp":1700000000123}`, time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC)},
		{`{"Time":"2024-01-02T03:04:05Z"}`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`{"time":"yesterday"}`, time.Time{}},
		{`2024-01-02T03:04:05.123-05:00 INFO x`, time.Date(2024, 1, 2, 8, 4, 5, 123e6, time.UTC)},
		{`[2024-01-02T03:04:05Z] started`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`level=info time=2024-01-02T03:04:05Z msg=x`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`level=info ts="2024-01-02T03:04:05Z" msg=x`, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{`10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326`, time.Date(2000, 10, 10, 20, 55, 36, 0, time.UTC)},
		{`2024-01-02 03:04:05 no zone, not RFC 3339`, time.Time{}},
		{`no time at all`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, got := parseLine(tt.line)
			if !got.Equal(tt.want) {
				t.Errorf("time of %q = %v, want %v", tt.line, got, tt.want)
			}
			if !got.IsZero() && got.Location() != time.UTC {
				t.Errorf("time of %q is in %v, want UTC", tt.line, got.Location())
			}
		})
	}
}

func TestIsContinuation(t *testing.T) {
	plain := &entry{first: "ERROR failed"}
	traceback := &entry{first: "ERROR:root:failed", traceback: true}
	tests := []struct {
		line string
		prev *entry
		want bool
	}{
		{"\tat com.example.Foo.bar(Foo.java:10)", plain, true},
		{"    more detail", plain, true},
		{"at Object.<anonymous> (/app/index.js:1:1)", plain, true},
		{"Caused by: java.io.IOException: disk", plain, true},
		{"... 12 more", plain, true},
		{"Traceback (most recent call last):", plain, true},
		{"java.lang.IllegalStateException: boom", plain, true},
		{"ValueError: bad", traceback, true},
		{"During handling of the above exception, another exception occurred:", traceback, true},
		{"ValueError: bad", plain, false},
		{"INFO next", plain, false},
		{"INFO next", traceback, false},
		{"attach failed", plain, false},
	}
	for _, tt := range tests {
		if got := isContinuation(tt.line, tt.prev); got != tt.want {
			t.Errorf("isContinuation(%q, traceback=%v) = %v, want %v", tt.line, tt.prev.traceback, got, tt.want)
		}
	}
}
