package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/kamerrezz/theminidog/model"
)

// IngestAnswer is the body of a 202 response to POST /api/v1/metrics.
type IngestAnswer struct {
	Ingested  int  `json:"ingested"`
	Duplicate bool `json:"duplicate"`
}

// QueryPoint is one bucket of a query response.
type QueryPoint struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// QueryAnswer is the body of GET /api/v1/metrics/query without group_by.
type QueryAnswer struct {
	Host   string       `json:"host"`
	Name   string       `json:"name"`
	Bucket string       `json:"bucket"`
	Agg    string       `json:"agg"`
	Points []QueryPoint `json:"points"`
}

// Result is the batch PushAndQuery sent and the responses it received.
type Result struct {
	Batch    model.MetricBatch
	BatchID  string
	Ingested int
	Retry    IngestAnswer
	Answer   QueryAnswer
}

// PushAndQuery pushes SampleBatch, pushes it again with the same batch id,
// and queries mem.used_pct for the last ten minutes.
func PushAndQuery(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	now := cfg.Now()
	ingestToken, err := MintToken(cfg.Secret, cfg.Host, "ingest", now)
	if err != nil {
		return Result{}, err
	}
	readToken, err := MintToken(cfg.Secret, cfg.Host, "read", now)
	if err != nil {
		return Result{}, err
	}

	res := Result{Batch: SampleBatch(cfg.Host, now)}
	res.BatchID = res.Batch.BatchID
	first, err := cfg.push(ctx, ingestToken, res.Batch)
	if err != nil {
		return res, err
	}
	res.Ingested = first.Ingested

	// An agent that timed out waiting for the response sends the batch
	// again. The server recognises the batch id and stores nothing.
	if res.Retry, err = cfg.push(ctx, ingestToken, res.Batch); err != nil {
		return res, err
	}

	params := url.Values{
		"host": {cfg.Host}, "name": {model.MemUsedPct}, "bucket": {"1m"}, "agg": {"avg"},
		"from": {now.Add(-10 * time.Minute).Format(time.RFC3339)},
		"to":   {now.Add(time.Minute).Format(time.RFC3339)},
	}
	res.Answer, err = cfg.query(ctx, readToken, params)
	return res, err
}

// MintToken signs a token the way agents do: HS256 with the shared secret,
// issuer miniobserv-agent, the host as subject, and a short expiry. scope
// is "ingest", "read" or "" for both.
func MintToken(secret, host, scope string, now time.Time) (string, error) {
	claims := jwt.MapClaims{
		"iss": "miniobserv-agent",
		"sub": host,
		"iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	}
	if scope != "" {
		claims["scope"] = scope
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}

// SampleBatch returns three minutes of made-up readings: mem.used_pct of
// 30, 40 and 50 and cpu.usage_pct for core "total", one point 5 s into
// each of the last three minutes.
func SampleBatch(host string, now time.Time) model.MetricBatch {
	b := model.MetricBatch{Host: host, BatchID: uuid.NewString(), IntervalSeconds: 60}
	minute := now.UTC().Truncate(time.Minute)
	for i := range 3 {
		at := minute.Add(time.Duration(i-2)*time.Minute + 5*time.Second)
		b.Metrics = append(b.Metrics,
			model.Metric{Time: at, Name: model.MemUsedPct, Value: float64(30 + 10*i)},
			model.Metric{Time: at, Name: model.CPUUsagePct, Value: float64(5 + i), Labels: map[string]string{"core": "total"}},
		)
	}
	return b
}

func (cfg *Config) check() error {
	var errs []error
	if cfg.ServerURL == "" {
		errs = append(errs, errors.New("SERVER_URL: missing: set the server's base URL, e.g. http://127.0.0.1:8080"))
	}
	if len(cfg.Secret) < 16 {
		errs = append(errs, errors.New("AGENT_TOKEN: set the server's secret (at least 16 characters)"))
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.ServerURL = strings.TrimRight(cfg.ServerURL, "/")
	return errors.Join(errs...)
}

func (cfg *Config) push(ctx context.Context, token string, b model.MetricBatch) (IngestAnswer, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return IngestAnswer{}, fmt.Errorf("encode batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.ServerURL+"/api/v1/metrics", bytes.NewReader(body))
	if err != nil {
		return IngestAnswer{}, fmt.Errorf("build ingest request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")

	var ans IngestAnswer
	err = cfg.do(req, token, http.StatusAccepted, &ans)
	return ans, err
}

func (cfg *Config) query(ctx context.Context, token string, params url.Values) (QueryAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.ServerURL+"/api/v1/metrics/query?"+params.Encode(), nil)
	if err != nil {
		return QueryAnswer{}, fmt.Errorf("build query request: %w", err)
	}
	var ans QueryAnswer
	err = cfg.do(req, token, http.StatusOK, &ans)
	return ans, err
}

// do sends req with the bearer token and decodes a response with status
// want into v. Any other status becomes an error carrying the server's
// {"error": ...} message.
func (cfg *Config) do(req *http.Request, token string, want int, v any) error {
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if retry := resp.Header.Get("Retry-After"); retry != "" {
			return fmt.Errorf("%s %s: status %d, retry after %s s: %s", req.Method, req.URL.Path, resp.StatusCode, retry, e.Error)
		}
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
