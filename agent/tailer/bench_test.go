package tailer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/agent/tailer"
	"github.com/kamerrezz/theminidog/model"
)

// BenchmarkTail measures lines per second from appending to a file until the
// entries are emitted. Each iteration appends benchLines lines in writes of
// 100 lines and waits until the last one is emitted.
func BenchmarkTail(b *testing.B) {
	const benchLines = 100_000
	path := filepath.Join(b.TempDir(), "bench.log")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		b.Fatal(err)
	}

	var emitted atomic.Int64
	tl, err := tailer.New(tailer.Config{
		Paths:            []string{path},
		PollInterval:     100 * time.Millisecond,
		MultilineTimeout: 10 * time.Millisecond,
		Logger:           slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, func(model.LogEntry) { emitted.Add(1) }) }()
	defer func() {
		cancel()
		<-done
	}()

	chunks := benchChunks(benchLines, 100)
	w, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()

	var total time.Duration
	var target int64
	for b.Loop() {
		target += benchLines
		start := time.Now()
		for _, c := range chunks {
			if _, err := w.WriteString(c); err != nil {
				b.Fatal(err)
			}
		}
		deadline := start.Add(time.Minute)
		for emitted.Load() < target {
			if time.Now().After(deadline) {
				b.Fatalf("emitted %d of %d lines within a minute", emitted.Load(), target)
			}
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(target)/total.Seconds(), "lines/s")
}

// benchChunks returns n logfmt lines grouped into writes of per lines each.
func benchChunks(n, per int) []string {
	var chunks []string
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "time=2024-01-02T03:04:05Z level=info msg=\"request served\" id=%d path=/api/v1/items status=200\n", i)
		if (i+1)%per == 0 {
			chunks = append(chunks, b.String())
			b.Reset()
		}
	}
	if b.Len() > 0 {
		chunks = append(chunks, b.String())
	}
	return chunks
}
