package telemetry_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/otlptest"
	"github.com/kamerrezz/theminidog/internal/telemetry"
)

// waitTimeout bounds every wait for exported data. Exports are forced with
// ForceFlush, so the data is normally there on the first check.
const waitTimeout = 15 * time.Second

// clearOTelEnv unsets every OTEL_* variable for the test, so the machine's
// environment cannot change what Setup does. The originals come back when
// the test ends.
func clearOTelEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "OTEL_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

// exportTo clears the OTel environment and points both signals at rcv over
// OTLP/HTTP.
func exportTo(t testing.TB, rcv *otlptest.Receiver) {
	t.Helper()
	clearOTelEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.URL())
}

// syncBuffer is a log destination that background export goroutines may
// write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// setup calls telemetry.Setup for service and shuts the result down when
// the test ends. The returned buffer holds the log output.
func setup(t testing.TB, service string) (*telemetry.Telemetry, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		ServiceName: service,
		Version:     "1.2.3",
		Host:        "host-" + service,
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("setup %s: %v", service, err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel, logs
}

func flush(t testing.TB, tels ...*telemetry.Telemetry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for _, tel := range tels {
		if err := tel.ForceFlush(ctx); err != nil {
			t.Fatalf("force flush: %v", err)
		}
	}
}
