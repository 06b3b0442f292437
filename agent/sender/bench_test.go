package sender_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kamerrezz/theminidog/agent/sender"
)

// BenchmarkSend measures encoding and posting one 100-point metric batch
// to a local server that reads the body and responds with 202.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"ingested":100}`)
	}))
	defer srv.Close()

	s, err := sender.New(sender.Config{ServerURL: srv.URL, RetryMax: 0}, sender.WithToken(testSecret, "web-1"))
	if err != nil {
		b.Fatal(err)
	}
	batch := metricBatch("bench", 100)
	ctx := context.Background()

	b.ReportAllocs()
	for b.Loop() {
		if err := s.SendMetrics(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
