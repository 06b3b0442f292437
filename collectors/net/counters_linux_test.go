package net

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostCountersReadsInitNamespace(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("testdata", "host"))
	if err != nil {
		t.Fatal(err)
	}

	stats, err := hostCounters(root)(context.Background())
	if err != nil {
		t.Fatalf("hostCounters: %v", err)
	}
	got := map[string][2]uint64{}
	for _, s := range stats {
		got[s.Name] = [2]uint64{s.BytesRecv, s.BytesSent}
	}
	if got["eth0"] != [2]uint64{245879446, 599829} {
		t.Errorf("eth0 counters = %v, want [245879446 599829]", got["eth0"])
	}
	if len(got) != 3 {
		t.Errorf("interfaces = %v, want lo, eth0 and veth1a2b", got)
	}
}

func TestHostCountersNoFallbackUnderRoot(t *testing.T) {
	root := t.TempDir()

	_, err := hostCounters(root)(context.Background())
	if err == nil {
		t.Fatal("hostCounters under an empty root returned no error")
	}
	if !strings.Contains(err.Error(), filepath.Join(root, "proc", "1", "net", "dev")) {
		t.Errorf("error %q does not name the init process counters", err)
	}
}
