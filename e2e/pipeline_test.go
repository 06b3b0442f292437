package e2e

import (
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/model"
)

type queryAnswer struct {
	Points []struct {
		Time  time.Time `json:"time"`
		Value float64   `json:"value"`
	} `json:"points"`
}

type seriesAnswer struct {
	Series []struct {
		Labels map[string]string `json:"labels"`
	} `json:"series"`
}

// TestAgentToServerPipeline runs both binaries against a real database
// with a one-second interval and checks through the query API that all
// nine metrics arrive for this host with plausible values.
func TestAgentToServerPipeline(t *testing.T) {
	serverBin, agentBin := binaries(t)
	db := pgtest.NewDatabase(t)
	addr := freeAddr(t)
	base := "http://" + addr
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}

	srv := start(t, serverBin, []string{"DATABASE_URL=" + db, "AGENT_TOKEN=" + secret, "LISTEN_ADDR=" + addr}, "serve")
	waitReady(t, base, srv)
	// The trailing slash on SERVER_URL is deliberate; NET_IFACES=* keeps
	// loopback so network deltas exist on a host with no other interface.
	start(t, agentBin, []string{"SERVER_URL=" + base + "/", "AGENT_TOKEN=" + secret, "AGENT_HOST=" + host,
		"COLLECT_INTERVAL=1s", "NET_IFACES=*", "LOG_STATE_FILE=" + t.TempDir() + "/state.json"})

	latest := func(name string, labels url.Values) (float64, bool) {
		v := url.Values{"host": {host}, "name": {name}, "from": {time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)}}
		for k, vals := range labels {
			v[k] = vals
		}
		var a queryAnswer
		if getJSON(t, base, "/api/v1/metrics/query?"+v.Encode(), &a) != 200 || len(a.Points) == 0 {
			return 0, false
		}
		return a.Points[len(a.Points)-1].Value, true
	}

	// Disk metrics are asked for on the first mount the host reports, which
	// is "/" on most hosts but not in every container.
	var mount url.Values
	waitFor(t, 60*time.Second, "a disk series", func() bool {
		var s seriesAnswer
		getJSON(t, base, "/api/v1/series?"+url.Values{"host": {host}, "name": {model.DiskTotalBytes}}.Encode(), &s)
		if len(s.Series) == 0 {
			return false
		}
		mount = url.Values{"label.mount": {s.Series[0].Labels["mount"]}}
		return true
	})

	values := map[string]float64{}
	waitFor(t, 60*time.Second, "all nine metrics", func() bool {
		for _, name := range model.MetricNames() {
			var labels url.Values
			if model.Metrics[name].Label == "mount" {
				labels = mount
			}
			v, ok := latest(name, labels)
			if !ok {
				return false
			}
			values[name] = v
		}
		return true
	})

	for name, v := range values {
		switch model.Metrics[name].Unit {
		case model.UnitPercent:
			if v < 0 || v > 100 {
				t.Errorf("%s = %v, want 0-100", name, v)
			}
		case model.UnitBytes:
			if v < 0 {
				t.Errorf("%s = %v, want >= 0", name, v)
			}
		}
	}
	for _, pair := range [][2]string{{model.MemUsedBytes, model.MemTotalBytes}, {model.DiskUsedBytes, model.DiskTotalBytes}} {
		used, total := values[pair[0]], values[pair[1]]
		if total <= 0 || used > total {
			t.Errorf("%s = %v, %s = %v: want total > 0 and used <= total", pair[0], used, pair[1], total)
		}
	}
}
