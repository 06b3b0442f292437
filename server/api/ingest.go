package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/auth"
)

// ingestResponse is the 202 body of an ingest request.
type ingestResponse struct {
	Ingested  int  `json:"ingested"`
	Duplicate bool `json:"duplicate,omitempty"`
}

func (a *API) ingestMetrics(w http.ResponseWriter, r *http.Request) {
	var batch model.MetricBatch
	if !a.decodeBody(w, r, &batch) {
		return
	}
	if !a.checkBatch(w, r, batch.Host, batch.Validate(a.limits())) {
		return
	}

	res, err := a.opts.Store.InsertMetrics(r.Context(), &batch)
	if err != nil {
		a.WriteStorageError(w, r, err)
		return
	}

	interval := time.Duration(batch.IntervalSeconds * float64(time.Second))
	a.Heartbeat(batch.Host, interval)
	WriteJSON(w, http.StatusAccepted, ingestResponse{Ingested: res.Inserted, Duplicate: res.Duplicate})
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

// DecodeBody reads a JSON request body into v, answering 413 when it is
// over the size limit and 400 when it is not valid JSON. It reports whether
// decoding succeeded.
func (a *API) DecodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	return a.decodeBody(w, r, v)
}

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

// CheckBatch answers the validation result of a batch: 413 for too many
// items, 400 for any other invalid field, 403 when the token is bound to
// another host. It reports whether the batch may be stored.
func (a *API) CheckBatch(w http.ResponseWriter, r *http.Request, host string, err error) bool {
	return a.checkBatch(w, r, host, err)
}

func (a *API) checkBatch(w http.ResponseWriter, r *http.Request, host string, err error) bool {
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, model.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w, status, err.Error())
		return false
	}

	if a.opts.RequireHostMatch {
		c, _ := auth.FromContext(r.Context())
		if c == nil || c.Subject != host {
			writeError(w, http.StatusForbidden,
				fmt.Sprintf("host: %q does not match the token subject: mint the agent token for this host", host))
			return false
		}
	}
	return true
}
