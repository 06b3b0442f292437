package sender

import (
	"encoding/json"

	"github.com/kamerrezz/theminidog/model"
)

// payload is a batch as the sender handles it, whatever its kind.
type payload interface {
	kind() string
	batchID() string
	items() int
	encode() ([]byte, error)
	// split returns the two halves with ids "<id>-a" and "<id>-b". It is
	// only called with at least two items.
	split() (payload, payload)
}

type metricPayload struct{ b model.MetricBatch }

func (p metricPayload) kind() string            { return "metrics" }
func (p metricPayload) batchID() string         { return p.b.BatchID }
func (p metricPayload) items() int              { return len(p.b.Metrics) }
func (p metricPayload) encode() ([]byte, error) { return json.Marshal(p.b) }

func (p metricPayload) split() (payload, payload) {
	a, b := p.b, p.b
	half := len(p.b.Metrics) / 2
	a.Metrics, b.Metrics = p.b.Metrics[:half:half], p.b.Metrics[half:]
	a.BatchID, b.BatchID = p.b.BatchID+"-a", p.b.BatchID+"-b"
	return metricPayload{a}, metricPayload{b}
}

type logPayload struct{ b model.LogBatch }

func (p logPayload) kind() string            { return "logs" }
func (p logPayload) batchID() string         { return p.b.BatchID }
func (p logPayload) items() int              { return len(p.b.Entries) }
func (p logPayload) encode() ([]byte, error) { return json.Marshal(p.b) }

func (p logPayload) split() (payload, payload) {
	a, b := p.b, p.b
	half := len(p.b.Entries) / 2
	a.Entries, b.Entries = p.b.Entries[:half:half], p.b.Entries[half:]
	a.BatchID, b.BatchID = p.b.BatchID+"-a", p.b.BatchID+"-b"
	return logPayload{a}, logPayload{b}
}
