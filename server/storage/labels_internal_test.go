package storage

import (
	"encoding/json"
	"testing"
)

func TestLabelsJSONRoundTrips(t *testing.T) {
	cases := []map[string]string{
		nil,
		{"core": "total"},
		{"mount": `/mnt/with "quotes" and \back\slash`},
		{"iface": "eth0\t"},
		{"mount": "/données"},
		{"a": "1", "b": "2"},
	}
	for _, labels := range cases {
		raw := labelsJSON(labels)
		var back map[string]string
		if err := json.Unmarshal([]byte(raw), &back); err != nil {
			t.Fatalf("labelsJSON(%q) = %s: not JSON: %v", labels, raw, err)
		}
		if len(back) != len(labels) {
			t.Fatalf("labelsJSON(%q) = %s: decoded %q", labels, raw, back)
		}
		for k, v := range labels {
			if back[k] != v {
				t.Fatalf("labelsJSON(%q) = %s: key %s decoded as %q", labels, raw, k, back[k])
			}
		}
	}
}
