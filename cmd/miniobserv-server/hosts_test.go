package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/internal/pgtest"
	"github.com/kamerrezz/theminidog/server/storage"
)

func TestHostsRetireCommand(t *testing.T) {
	url := pgtest.NewDatabase(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := storage.NewMigrator(url, "", quiet)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	if err := m.Up(); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	m.Close()

	st, err := storage.Open(context.Background(), storage.Options{URL: url, Mode: storage.ModePostgres, Logger: quiet})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	seen := time.Now().UTC().Add(-time.Hour)
	if err := st.SaveHosts(context.Background(), []storage.HostRecord{{Host: "old-1", FirstSeen: seen, LastSeen: seen}}); err != nil {
		t.Fatalf("save host: %v", err)
	}
	t.Setenv("DATABASE_URL", url)

	var stdout, stderr bytes.Buffer
	if code := run([]string{"hosts", "retire", "old-1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("hosts retire: exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "host old-1 retired at") {
		t.Errorf("output %q does not confirm the retirement", stdout.String())
	}
	recs, err := st.LoadHosts(context.Background())
	if err != nil || len(recs) != 1 || !recs[0].Retired() {
		t.Fatalf("stored hosts = %+v, %v; want old-1 retired", recs, err)
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"hosts", "retire", "old-1"}, `host "old-1": not found or already retired`},
		{[]string{"hosts", "retire", "nobody"}, `host "nobody": not found`},
		{[]string{"hosts", "retire"}, "usage: miniobserv-server hosts retire NAME"},
		{[]string{"hosts", "list"}, "usage: miniobserv-server hosts retire NAME"},
	}
	for _, c := range cases {
		stdout.Reset()
		stderr.Reset()
		if code := run(c.args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", c.args, code, stderr.String(), c.want)
		}
	}

	t.Setenv("DATABASE_URL", "")
	stderr.Reset()
	if code := run([]string{"hosts", "retire", "x"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "DATABASE_URL") {
		t.Errorf("without DATABASE_URL: exit %d, stderr %q; want exit 1 naming DATABASE_URL", code, stderr.String())
	}
}
