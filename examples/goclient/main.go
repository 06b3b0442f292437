// Command goclient is a minimal MiniObserv client in Go. It mints HS256
// tokens from the server's secret and pushes one batch of metrics. It
// pushes the batch again to show that a retried batch is stored once, then
// reads the points back through the query API.
//
//	SERVER_URL=http://127.0.0.1:8080 AGENT_TOKEN=<server secret> go run ./examples/goclient
//
// It uses only the standard library, golang-jwt and the wire types of
// package model, as any third-party client can.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	cfg := Config{
		ServerURL: os.Getenv("SERVER_URL"),
		Secret:    os.Getenv("AGENT_TOKEN"),
		Host:      os.Getenv("AGENT_HOST"),
	}
	if cfg.Host == "" {
		cfg.Host = "goclient-demo"
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
}

// Config is the client configuration: the server, its secret and the host name.
type Config struct {
	ServerURL string // base URL, with or without a trailing slash
	Secret    string // the server's AGENT_TOKEN
	Host      string // host name the points are reported for
	// Client defaults to an http.Client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
}

// run pushes the sample batch twice and prints what the server stored.
func run(ctx context.Context, cfg Config, out io.Writer) error {
	res, err := PushAndQuery(ctx, cfg)
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "pushed %d points for host %s (batch %s)\n", res.Ingested, cfg.Host, res.BatchID)
	fmt.Fprintf(out, "pushed the same batch again: duplicate=%v, ingested %d\n", res.Retry.Duplicate, res.Retry.Ingested)
	fmt.Fprintf(out, "%s per minute, %s:\n", res.Answer.Name, res.Answer.Agg)
	for _, p := range res.Answer.Points {
		fmt.Fprintf(out, "  %s  %.2f\n", p.Time.Format(time.RFC3339), p.Value)
	}
	return nil
}
