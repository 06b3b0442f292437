// Command healthcheck is the HEALTHCHECK of the server container image.
// The image is built FROM scratch and has no shell, curl or wget, so this
// static binary does the one request Docker needs: it GETs a URL and exits
// 0 on a 2xx status and 1 otherwise.
//
// Usage: healthcheck [-insecure] [-timeout 3s] [URL]
//
// URL defaults to $HEALTHCHECK_URL, then to http://127.0.0.1:8080/healthz.
// -insecure skips TLS certificate verification, for a server whose
// certificate names a public host name rather than 127.0.0.1.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const defaultURL = "http://127.0.0.1:8080/healthz"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

func run(args []string, getenv func(string) string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	insecure := fs.Bool("insecure", false, "skip TLS certificate verification")
	timeout := fs.Duration("timeout", 3*time.Second, "time limit for the request")
	if err := fs.Parse(args); err != nil {
		return 2
	}

	url := fs.Arg(0)
	if url == "" {
		url = getenv("HEALTHCHECK_URL")
	}
	if url == "" {
		url = defaultURL
	}

	if err := check(url, *timeout, *insecure); err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return 1
	}
	return 0
}

func check(url string, timeout time.Duration, insecure bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", url, err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}

	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: status %s", url, resp.Status)
	}
	return nil
}
