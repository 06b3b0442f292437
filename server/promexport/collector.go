package promexport

import (
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/server/storage"
)

// Namespace prefixes every exported metric name.
const Namespace = "miniobserv"

// LastSampleMetric is the gauge holding, per host, the Unix time in seconds
// of the host's newest exported point. Because samples carry no timestamps,
// this is how a Prometheus user tells current values from those of a host
// that stopped reporting.
const LastSampleMetric = Namespace + "_last_sample_timestamp_seconds"

const lastSampleHelp = "Unix time of the host's newest stored point, seconds"

// hostLabel is the label naming the host on every exported series.
const hostLabel = "host"

// MetricName returns the exported name of a stored metric name: the
// namespace, an underscore, and the name with dots replaced by underscores.
func MetricName(name string) string {
	return Namespace + "_" + strings.ReplaceAll(name, ".", "_")
}

// LabelName returns the exported name of a stored label key. Keys that
// would clash with the host label or with the names Prometheus reserves
// (those starting with "__") get an "exported_" prefix, as Prometheus does
// for clashing target labels.
func LabelName(key string) string {
	if key == hostLabel || strings.HasPrefix(key, "__") {
		return "exported_" + key
	}
	return key
}

// latestCollector turns the rows of one LatestSeries call into constant
// gauges. It is built for one scrape and registered on a registry of its
// own, so it describes nothing up front (an unchecked collector).
type latestCollector struct {
	values []storage.LatestValue
	log    *slog.Logger
}

func (latestCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends one gauge per stored series and one
// LastSampleMetric gauge per host. Rows whose name is not in the allowlist
// (left by a newer server version, say) are skipped and logged once per
// scrape.
func (c latestCollector) Collect(ch chan<- prometheus.Metric) {
	newest := map[string]time.Time{}
	var skipped []string

	for _, v := range c.values {
		info, ok := model.Metrics[v.Name]
		if !ok {
			skipped = append(skipped, v.Name)
			continue
		}
		ch <- gauge(MetricName(v.Name), info.Help, seriesLabels(v), v.Value)
		if v.Time.After(newest[v.Host]) {
			newest[v.Host] = v.Time
		}
	}

	for host, t := range newest {
		ch <- gauge(LastSampleMetric, lastSampleHelp, map[string]string{hostLabel: host}, float64(t.UnixMilli())/1000)
	}

	if len(skipped) > 0 {
		c.log.Warn("stored metrics outside the allowlist not exported", "series", len(skipped), "first_name", skipped[0])
	}
}

// seriesLabels returns the exported labels of one stored series.
func seriesLabels(v storage.LatestValue) map[string]string {
	labels := make(map[string]string, len(v.Labels)+1)
	for k, val := range v.Labels {
		labels[LabelName(k)] = val
	}
	labels[hostLabel] = v.Host
	return labels
}

// gauge builds a constant gauge without a timestamp. An invalid name or
// label becomes an invalid metric, which the registry reports and the
// handler logs while it serves the other series.
func gauge(name, help string, labels map[string]string, value float64) prometheus.Metric {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = labels[k]
	}

	desc := prometheus.NewDesc(name, help, keys, nil)
	m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, value, values...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}
