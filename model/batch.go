package model

import "time"

// MaxBatchItems is the most points or log entries one batch may carry. A
// larger batch is rejected with 413 so that the agent splits it.
const MaxBatchItems = 1000

// MetricBatch is the body of POST /api/v1/metrics.
type MetricBatch struct {
	Host string `json:"host"`
	// BatchID identifies the batch across retries; the server stores a batch
	// id once within its deduplication window.
	BatchID string `json:"batch_id,omitempty"`
	// IntervalSeconds is the agent's collection interval, used by the server
	// to scale host liveness thresholds.
	IntervalSeconds float64  `json:"interval_seconds,omitempty"`
	Metrics         []Metric `json:"metrics"`
}

// Metric is one sample of an allowlisted metric.
type Metric struct {
	Time   time.Time         `json:"time"`
	Host   string            `json:"host,omitempty"`
	Name   string            `json:"name"`
	Value  float64           `json:"value"`
	Labels map[string]string `json:"labels,omitempty"`
}

// LogBatch is the body of POST /api/v1/logs.
type LogBatch struct {
	Host    string     `json:"host"`
	BatchID string     `json:"batch_id,omitempty"`
	Entries []LogEntry `json:"entries"`
}

// LogEntry is one log record read from a file on the host.
type LogEntry struct {
	Time    time.Time `json:"time"`
	Host    string    `json:"host,omitempty"`
	Path    string    `json:"path"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// Log levels as stored. Input levels are matched case-insensitively and
// normalised to one of these by NormalizeLevel.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)
