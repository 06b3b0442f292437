package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/auth"
	"github.com/kamerrezz/theminidog/server/storage"
)

// ingestResponse is the 202 body of an ingest request.
type ingestResponse struct {
	Ingested  int  `json:"ingested"`
	Duplicate bool `json:"duplicate,omitempty"`
}

func (a *API) ingestMetrics(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var batch model.MetricBatch
	status := a.ingest(w, r, telemetry.BatchMetrics, &batch,
		func() (int, string, error) { return len(batch.Metrics), batch.Host, batch.Validate(a.limits()) },
		func() (storage.InsertResult, error) { return a.opts.Store.InsertMetrics(r.Context(), &batch) })
	if status == http.StatusAccepted {
		interval := time.Duration(batch.IntervalSeconds * float64(time.Second))
		a.Heartbeat(batch.Host, interval)
	}
	a.opts.Metrics.RecordIngestDuration(r.Context(), telemetry.BatchMetrics, time.Since(start))
}

// ingest runs the steps shared by metric and log ingest: decode into
// batch, validate, store, respond, and count the outcome. It returns the
// HTTP status sent.
// validate returns the batch's item count and host with the validation
// result.
func (a *API) ingest(w http.ResponseWriter, r *http.Request, kind telemetry.BatchKind, batch any,
	validate func() (int, string, error), store func() (storage.InsertResult, error)) int {
	if !a.decodeBody(w, r, batch) {
		a.countRejected(r, kind, telemetry.RejectInvalid, 1)
		return http.StatusBadRequest
	}

	_, span := a.opts.Tracer.Start(r.Context(), "validate batch")
	n, host, err := validate()
	telemetry.EndSpan(span, err)
	if status, ok := a.checkBatch(w, r, host, err); !ok {
		reason := telemetry.RejectInvalid
		if status == http.StatusRequestEntityTooLarge {
			reason = telemetry.RejectTooLarge
		}
		a.countRejected(r, kind, reason, n)
		return status
	}

	res, err := store()
	if err != nil {
		a.countRejected(r, kind, telemetry.RejectStorageUnavailable, n)
		return a.WriteStorageError(w, r, err)
	}
	if res.Duplicate {
		a.countRejected(r, kind, telemetry.RejectDuplicate, n)
	} else if kind == telemetry.BatchLogs {
		a.opts.Metrics.AddLogsIngested(r.Context(), res.Inserted)
	} else {
		a.opts.Metrics.AddPointsIngested(r.Context(), res.Inserted)
	}
	WriteJSON(w, http.StatusAccepted, ingestResponse{Ingested: res.Inserted, Duplicate: res.Duplicate})
	return http.StatusAccepted
}

func (a *API) countRejected(r *http.Request, kind telemetry.BatchKind, reason telemetry.RejectReason, n int) {
	if kind == telemetry.BatchLogs {
		a.opts.Metrics.AddLogsRejected(r.Context(), reason, max(n, 1))
		return
	}
	a.opts.Metrics.AddPointsRejected(r.Context(), reason, max(n, 1))
}

// Heartbeat records that host sent an accepted batch.
func (a *API) Heartbeat(host string, interval time.Duration) {
	if a.opts.Heartbeat != nil {
		a.opts.Heartbeat.Heartbeat(host, interval, a.opts.Now())
	}
}

func (a *API) limits() model.Limits {
	return model.Limits{Now: a.opts.Now(), MaxAge: a.opts.MetricsRetention}
}

// decodeBody reads a JSON request body into v, responding 413 when it is
// over the size limit and 400 when it is not valid JSON. It reports whether
// decoding succeeded.
func (a *API) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body := http.MaxBytesReader(w, r.Body, a.opts.MaxBodyBytes)
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err == nil {
		return true
	}

	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("body: larger than %d bytes: split the batch", tooBig.Limit))
	case errors.As(err, &typeErr):
		writeError(w, http.StatusBadRequest,
			fmt.Sprintf("%s: expected %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value))
	case errors.As(err, &syntaxErr):
		writeError(w, http.StatusBadRequest,
			fmt.Sprintf("body: invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "body: empty: send a JSON object")
	default:
		writeError(w, http.StatusBadRequest, "body: invalid JSON: "+err.Error())
	}
	return false
}

// checkBatch responds to the validation result of a batch: 413 for too many
// items, 400 for any other invalid field, 403 when the token is bound to
// another host. It reports whether the batch may be stored.
func (a *API) checkBatch(w http.ResponseWriter, r *http.Request, host string, err error) (int, bool) {
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, model.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, err.Error())
		return status, false
	}

	if a.opts.RequireHostMatch {
		c, _ := auth.FromContext(r.Context())
		if c == nil || c.Subject != host {
			writeError(w, http.StatusForbidden,
				fmt.Sprintf("host: %q does not match the token subject: mint the agent token for this host", host))
			return http.StatusForbidden, false
		}
	}
	return http.StatusOK, true
}
