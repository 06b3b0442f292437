package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// Log query limits.
const (
	defaultLogLimit = 100
	maxLogLimit     = 1000
	maxLogQueryText = 1024
)

func (a *API) ingestLogs(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var batch model.LogBatch
	lim := model.Limits{Now: a.opts.Now(), MaxAge: a.opts.LogsRetention}
	status := a.ingest(w, r, telemetry.BatchLogs, &batch,
		func() (int, string, error) { return len(batch.Entries), batch.Host, batch.Validate(lim) },
		func() (storage.InsertResult, error) { return a.opts.Store.InsertLogs(r.Context(), &batch) })
	if status == http.StatusAccepted {
		a.Heartbeat(batch.Host, 0)
	}
	a.opts.Metrics.RecordIngestDuration(r.Context(), telemetry.BatchLogs, time.Since(start))
}

type logsResponse struct {
	Entries    []storage.LogRecord `json:"entries"`
	NextCursor *string             `json:"next_cursor"`
}

func (a *API) queryLogs(w http.ResponseWriter, r *http.Request) {
	q, err := parseLogQuery(r.URL.Query(), a.opts.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}

	entries, next, err := a.opts.Store.QueryLogs(r.Context(), q)
	if errors.Is(err, storage.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, "cursor: not a cursor from a previous page: omit it to start from the newest entry")
		return
	}
	if err != nil {
		a.WriteStorageError(w, r, err)
		return
	}

	resp := logsResponse{Entries: entries}
	if next != "" {
		resp.NextCursor = &next
	}
	WriteJSON(w, http.StatusOK, resp)
}

func parseLogQuery(v url.Values, now time.Time) (storage.LogQuery, error) {
	q := storage.LogQuery{Host: v.Get("host"), Text: v.Get("q"), Cursor: v.Get("cursor"), Limit: defaultLogLimit}

	var err error
	if q.From, q.To, err = parseRange(v, now); err != nil {
		return q, err
	}
	if len(q.Text) > maxLogQueryText {
		return q, &paramError{"q", fmt.Sprintf("longer than %d bytes", maxLogQueryText)}
	}

	if s := v.Get("level"); s != "" {
		for _, part := range strings.Split(s, ",") {
			level, ok := model.NormalizeLevel(part)
			if !ok {
				return q, &paramError{"level", fmt.Sprintf("%q is not debug, info, warn or error", part)}
			}
			q.Levels = append(q.Levels, level)
		}
	}

	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLogLimit {
			return q, &paramError{"limit", fmt.Sprintf("%q is not a number from 1 to %d", s, maxLogLimit)}
		}
		q.Limit = n
	}
	return q, nil
}
