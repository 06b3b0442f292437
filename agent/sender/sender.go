package sender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/kamerrezz/theminidog/model"
)

// Ingest endpoints, relative to the server's base URL.
const (
	MetricsPath = "api/v1/metrics"
	LogsPath    = "api/v1/logs"
)

// Defaults for Config fields left at zero.
const (
	DefaultRetryWaitMin   = time.Second
	DefaultRetryWaitMax   = 30 * time.Second
	DefaultRequestTimeout = 15 * time.Second
)

// maxResponseBody bounds how much of a response is read, so a misbehaving
// server cannot make the agent buffer an unbounded body.
const maxResponseBody = 64 << 10

// Config holds the sender's settings.
type Config struct {
	// ServerURL is the server's base URL, with or without a trailing
	// slash. It may include a path prefix, such as a reverse proxy's.
	ServerURL string
	// RetryWaitMin is the first backoff wait. Default: 1s, lowered to
	// RetryWaitMax when that is smaller.
	RetryWaitMin time.Duration
	// RetryWaitMax caps every wait, including one the server requests with
	// Retry-After. Default: 30s.
	RetryWaitMax time.Duration
	// RetryMax is the number of retries after the first attempt; 0 means
	// one attempt only.
	RetryMax int
	// RequestTimeout bounds one HTTP attempt. Default: 15s.
	RequestTimeout time.Duration
}

// Sender posts batches to the server. It is safe for concurrent use.
type Sender struct {
	client     *retryablehttp.Client
	metricsURL string
	logsURL    string
	tokens     TokenSource
	log        *slog.Logger
	stats      counters
}

type options struct {
	tokens       TokenSource
	secret, host string
	logger       *slog.Logger
	rootCAs      *x509.CertPool
	wrap         func(http.RoundTripper) http.RoundTripper
	now          func() time.Time
}

// Option configures a Sender.
type Option func(*options)

// WithToken signs requests with HS256 JWTs minted from secret for host,
// through a JWTSource with the default lifetime.
func WithToken(secret, host string) Option {
	return func(o *options) { o.secret, o.host = secret, host }
}

// WithTokenSource takes the bearer tokens from ts instead of WithToken.
func WithTokenSource(ts TokenSource) Option {
	return func(o *options) { o.tokens = ts }
}

// WithLogger sets the logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithRootCAs sets the certificate authorities trusted for the server's
// certificate. Default: the system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) { o.rootCAs = pool }
}

// WithTransportWrapper wraps the HTTP transport, for example with an
// OpenTelemetry transport that injects the W3C traceparent header from
// the request context. Every attempt, retries included, goes through it.
func WithTransportWrapper(wrap func(http.RoundTripper) http.RoundTripper) Option {
	return func(o *options) { o.wrap = wrap }
}

// WithClock replaces time.Now for Retry-After dates and token minting,
// for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// New returns a Sender for cfg. It needs WithToken or WithTokenSource.
func New(cfg Config, opts ...Option) (*Sender, error) {
	o := options{logger: slog.Default(), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.tokens == nil && o.secret != "" {
		o.tokens = NewJWTSource(o.secret, o.host, WithTokenClock(o.now))
	}
	if o.tokens == nil {
		return nil, errors.New("new sender: no token: pass WithToken or WithTokenSource")
	}

	metricsURL, err := url.JoinPath(cfg.ServerURL, MetricsPath)
	if err != nil {
		return nil, fmt.Errorf("new sender: server URL %q: %w", cfg.ServerURL, err)
	}
	logsURL, err := url.JoinPath(cfg.ServerURL, LogsPath)
	if err != nil {
		return nil, fmt.Errorf("new sender: server URL %q: %w", cfg.ServerURL, err)
	}

	s := &Sender{
		metricsURL: metricsURL,
		logsURL:    logsURL,
		tokens:     o.tokens,
		log:        o.logger,
	}
	s.client = s.newRetryClient(cfg, o)
	return s, nil
}

func (s *Sender) newRetryClient(cfg Config, o options) *retryablehttp.Client {
	transport := cleanhttp.DefaultPooledTransport()
	transport.TLSClientConfig = &tls.Config{RootCAs: o.rootCAs, MinVersion: tls.VersionTLS12}
	var rt http.RoundTripper = transport
	if o.wrap != nil {
		rt = o.wrap(rt)
	}

	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	waitMax := cfg.RetryWaitMax
	if waitMax <= 0 {
		waitMax = DefaultRetryWaitMax
	}
	waitMin := cfg.RetryWaitMin
	if waitMin <= 0 {
		waitMin = DefaultRetryWaitMin
	}

	client := retryablehttp.NewClient()
	client.HTTPClient = &http.Client{Transport: rt, Timeout: timeout}
	client.Logger = nil
	client.RetryWaitMin = clampMin(waitMin, waitMax)
	client.RetryWaitMax = waitMax
	client.RetryMax = max(cfg.RetryMax, 0)
	client.CheckRetry = s.checkRetry
	client.Backoff = newBackoff(o.now).wait
	client.ErrorHandler = giveUp
	client.PrepareRetry = s.prepareRetry
	client.RequestLogHook = s.countAttempt
	return client
}

// SendMetrics delivers one metric batch. It returns nil once the server
// has accepted every point, a *DropError when some points were dropped for
// good, and otherwise an error after which the caller may send the same
// batch again: a *TemporaryError or ctx's error.
func (s *Sender) SendMetrics(ctx context.Context, b model.MetricBatch) error {
	return s.deliver(ctx, s.metricsURL, metricPayload{b})
}

// SendLogs delivers one log batch, with the results of SendMetrics.
func (s *Sender) SendLogs(ctx context.Context, b model.LogBatch) error {
	return s.deliver(ctx, s.logsURL, logPayload{b})
}

// Retryable reports whether err means that the server was unreachable or
// kept responding with a retryable status, so the batch may be sent again.
func Retryable(err error) bool {
	var temp *TemporaryError
	return errors.As(err, &temp)
}

// deliver sends p and handles the response, splitting p on 413.
func (s *Sender) deliver(ctx context.Context, endpoint string, p payload) error {
	status, body, err := s.post(ctx, endpoint, p)
	if err != nil {
		return err
	}

	switch {
	case status >= 200 && status < 300:
		s.acknowledge(p, body)
		return nil
	case status == http.StatusRequestEntityTooLarge:
		return s.split(ctx, endpoint, p, body)
	default:
		return s.drop(p, status, serverError(body))
	}
}

func (s *Sender) acknowledge(p payload, body []byte) {
	s.stats.delivered.Add(1)

	var ack struct {
		Ingested  int  `json:"ingested"`
		Duplicate bool `json:"duplicate"`
	}
	if json.Unmarshal(body, &ack) == nil && ack.Duplicate {
		s.stats.duplicates.Add(1)
		s.log.Debug("server already stored batch", "kind", p.kind(), "batch_id", p.batchID())
	}
}

// split sends the two halves of a batch the server rejected with 413. A
// temporary error on the first half is returned without sending the
// second, because the caller resends the whole batch and the server
// acknowledges the halves it already stored as duplicates.
func (s *Sender) split(ctx context.Context, endpoint string, p payload, body []byte) error {
	if p.items() <= 1 {
		return s.drop(p, http.StatusRequestEntityTooLarge, "a single item is larger than the server accepts: "+serverError(body))
	}

	a, b := p.split()
	s.stats.splits.Add(1)
	s.log.Info("batch split after 413", "kind", p.kind(), "batch_id", p.batchID(), "items", p.items(),
		"halves", []string{a.batchID(), b.batchID()})

	var dropped []error
	for _, half := range []payload{a, b} {
		err := s.deliver(ctx, endpoint, half)
		var drop *DropError
		switch {
		case errors.As(err, &drop):
			dropped = append(dropped, err)
		case err != nil:
			return err
		}
	}
	return errors.Join(dropped...)
}

func (s *Sender) drop(p payload, status int, reason string) error {
	s.stats.droppedBatches.Add(1)
	s.stats.droppedItems.Add(uint64(p.items()))
	s.log.Error("batch dropped", "kind", p.kind(), "batch_id", p.batchID(), "items", p.items(),
		"status", status, "error", reason)
	return &DropError{BatchID: p.batchID(), Items: p.items(), Status: status, Reason: reason}
}

// post sends p once, with retries, and returns the final status and body.
// A 401 renews the token and repeats the request once, because the server
// may have restarted with a clock that considers the token expired.
func (s *Sender) post(ctx context.Context, endpoint string, p payload) (int, []byte, error) {
	body, err := p.encode()
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s batch %s: %w", p.kind(), p.batchID(), err)
	}

	status, respBody, err := s.attempt(ctx, endpoint, p, body)
	if err != nil || status != http.StatusUnauthorized {
		return status, respBody, err
	}

	s.stats.tokenRenewals.Add(1)
	s.log.Warn("token rejected, renewing it", "kind", p.kind(), "batch_id", p.batchID(), "error", serverError(respBody))
	if _, err := s.tokens.Renew(); err != nil {
		return 0, nil, err
	}
	return s.attempt(ctx, endpoint, p, body)
}

// attempt runs one retryable request and reads the response.
func (s *Sender) attempt(ctx context.Context, endpoint string, p payload, body []byte) (int, []byte, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return 0, nil, fmt.Errorf("build request for %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "miniobserv-agent")
	if err := s.authorize(req.Request); err != nil {
		return 0, nil, err
	}

	resp, err := s.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, nil, fmt.Errorf("send %s batch %s: %w", p.kind(), p.batchID(), ctxErr)
		}
		return 0, nil, fmt.Errorf("send %s batch %s: %w", p.kind(), p.batchID(), err)
	}
	defer resp.Body.Close()

	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil && resp.StatusCode < 300 {
		// The server responded with a success status, so a cut-off body
		// only loses the duplicate flag.
		s.log.Debug("read response body", "error", err)
	}
	return resp.StatusCode, respBody, nil
}

// prepareRetry sets a current token before every retry, so that a long
// backoff cannot make a retry carry an expired token. The header map is
// copied first, because retryablehttp hands over a shallow copy of the
// previous request, whose headers the transport may still read.
func (s *Sender) prepareRetry(req *http.Request) error {
	req.Header = req.Header.Clone()
	return s.authorize(req)
}

// authorize sets a current token on the request.
func (s *Sender) authorize(req *http.Request) error {
	token, err := s.tokens.Token()
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

func (s *Sender) countAttempt(_ retryablehttp.Logger, req *http.Request, retry int) {
	s.stats.requests.Add(1)
	if retry > 0 {
		s.stats.retries.Add(1)
		s.log.Debug("retrying request", "url", req.URL.String(), "retry", retry)
	}
}

// checkRetry is the retry policy: connection errors and the statuses
// listed by retryableStatus are retried, everything else is final.
func (s *Sender) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		// The default policy retries connection errors but not redirect
		// loops, bad URLs or untrusted certificates.
		return retryablehttp.DefaultRetryPolicy(ctx, nil, err)
	}
	if retryableStatus(resp.StatusCode) {
		s.log.Debug("request failed, will retry", "url", resp.Request.URL.String(), "status", resp.StatusCode)
		return true, nil
	}
	return false, nil
}

// retryableStatus reports whether a status can change by waiting: request
// timeout, rate limiting and server errors. 501 and 505 are left out,
// because no retry makes the server implement a method or protocol.
func retryableStatus(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotImplemented, status == http.StatusHTTPVersionNotSupported:
		return false
	}
	return status >= 500 && status <= 599
}

// giveUp is the retryablehttp ErrorHandler, called when retries run out
// or a connection error is not retryable.
func giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	status := 0
	if resp != nil {
		status = resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
		resp.Body.Close()
	}
	return nil, &TemporaryError{Status: status, Attempts: attempts, Err: err}
}

// serverError extracts the message of an {"error": "..."} body, or returns
// the start of a body that is not JSON.
func serverError(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}

	text := strings.TrimSpace(string(bytes.ToValidUTF8(body, []byte("?"))))
	if len(text) > 512 {
		text = text[:512] + "..."
	}
	if text == "" {
		return "no error message in the response"
	}
	return text
}
