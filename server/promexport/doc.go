// Package promexport serves GET /metrics: the newest stored value of every
// series in the Prometheus text exposition format, so that a Prometheus
// server can scrape MiniObserv like any exporter.
//
// Each allowlisted metric becomes one gauge family named miniobserv_ plus
// the metric name with dots replaced by underscores, unit suffix kept
// (cpu.usage_pct is miniobserv_cpu_usage_pct). Every series carries a host
// label and its stored labels (core, mount, iface). Samples have no
// timestamps: Prometheus stamps them with the scrape time, so a series is
// never marked stale while the server keeps exporting it. A host that
// stopped reporting keeps its last values until retention deletes them,
// and miniobserv_last_sample_timestamp_seconds gives the time of each
// host's newest point, so that queries can tell current values from old
// ones.
//
// Every scrape runs one storage query (storage.Store.LatestSeries); the
// rows are encoded by the Prometheus client library (client_golang's
// registry and promhttp), not by hand.
package promexport
