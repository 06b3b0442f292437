package promexport

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kamerrezz/theminidog/server/api"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/storage"
)

// SeriesWindow caps how far before its metric's newest point a label set
// may have been written and still be exported. The look-back is three
// collection intervals (see storage.Store.LatestSeries), so a mount or
// interface missing from one or two collections stays exported. The cap is
// three times the longest agent interval (300 s).
const SeriesWindow = 15 * time.Minute

// LatestReader is the storage call the exporter needs; *storage.Store
// implements it.
type LatestReader interface {
	LatestSeries(ctx context.Context, window time.Duration) ([]storage.LatestValue, error)
}

// Mount serves GET /metrics on a, for callers with read credentials or for
// everyone when PUBLIC_READ lists /metrics.
func Mount(a *api.API, store LatestReader, log *slog.Logger) {
	a.Handle("GET /metrics", auth.ScopeRead, Handler(a, store, log))
}

// Handler returns the /metrics handler without the credential check.
//
// Each request reads the latest values first, under the request's context,
// so a storage failure gets the same response as on every other endpoint
// (503 with Retry-After while the database is down). The rows are then registered on
// a registry made for this request and encoded by promhttp, which also
// negotiates the exposition format and gzip with the scraper.
func Handler(a *api.API, store LatestReader, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	opts := promhttp.HandlerOpts{
		ErrorLog:      errorLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, err := store.LatestSeries(r.Context(), SeriesWindow)
		if err != nil {
			a.WriteStorageError(w, r, err)
			return
		}

		reg := prometheus.NewRegistry()
		reg.MustRegister(latestCollector{values: values, log: log})
		promhttp.HandlerFor(reg, opts).ServeHTTP(w, r)
	})
}

// errorLogger passes promhttp's gathering and encoding errors to slog. With
// ContinueOnError a series that fails is left out and the rest is served.
type errorLogger struct{ log *slog.Logger }

func (l errorLogger) Println(v ...any) {
	l.log.Warn("prometheus exposition failed", "err", fmt.Sprint(v...))
}
