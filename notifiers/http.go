package notifiers

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/kamerrezz/theminidog/model"
)

// UserAgent is sent with every HTTP notification.
const UserAgent = "MiniObserv-Notifier/1"

const (
	maxErrorBody   = 512       // bytes of a failed response kept for the log
	maxDrainedBody = 64 << 10  // bytes read from a response before the connection is dropped
	maxRetryAfter  = time.Hour // a larger Retry-After is treated as this
)

// StatusError is a response outside 2xx from a notification receiver.
type StatusError struct {
	StatusCode int
	// Body is the start of the response body, for the log.
	Body string
	// RetryAfter is the receiver's Retry-After header, zero when absent.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("receiver returned %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.StatusCode >= 300 && e.StatusCode < 400 {
		msg += " (redirects are not followed: set the url to the final address)"
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable reports whether the same request may succeed later: true for
// 5xx and 429 Too Many Requests, false for every other status.
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// transportError is a request that got no HTTP response at all: refused or
// reset connection, DNS failure, TLS failure, or the context ending.
type transportError struct {
	host string
	err  error
}

func (e *transportError) Error() string { return "post to " + e.host + ": " + e.err.Error() }

func (e *transportError) Unwrap() error { return e.err }

// Retryable is false once the context has ended, because a retry could not
// finish in time either, and for certificate errors, which persist.
func (e *transportError) Retryable() bool {
	if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
		return false
	}
	return !IsCertificateError(e.err)
}

// Retryable reports whether a failed delivery may succeed if repeated within
// the same deadline. An error that implements Retryable() bool decides for
// itself (StatusError and the errors of PostJSON do). Otherwise network
// errors are retryable and everything else, including an ended context, is
// not.
func Retryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}

	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// NewHTTPClient returns the client that HTTP notifiers use. It has no
// timeout of its own, because the Dispatcher's per-send deadline bounds every
// request through its context. It does not follow redirects. A 3xx from a
// webhook usually means a stale address, and following it would re-send the
// signed body to wherever the Location header points.
func NewHTTPClient() *http.Client {
	return &http.Client{
		Transport: http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// PostJSON posts body to target with Content-Type application/json and the
// given extra headers. A response outside 2xx becomes a *StatusError. Errors
// name only the target's host, never its path or query, because chat webhook
// URLs carry their secret token there.
func PostJSON(ctx context.Context, client *http.Client, target string, header http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("build request: invalid receiver URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	for name, values := range header {
		req.Header[name] = values
	}

	resp, err := client.Do(req)
	if err != nil {
		return &transportError{host: req.URL.Host, err: unwrapURLError(err)}
	}
	defer closeBody(resp.Body)

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return newStatusError(resp)
}

// MarshalJSON encodes v like json.Marshal but leaves <, > and & as they are.
// Chat services read those characters literally, and Slack in particular
// expects its own &lt; &gt; &amp; entities to arrive untouched.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func newStatusError(resp *http.Response) *StatusError {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))

	return &StatusError{
		StatusCode: resp.StatusCode,
		Body:       oneLine(string(snippet)),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// parseRetryAfter reads a Retry-After header in either of its forms, delay
// seconds or an HTTP date.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}

	var wait time.Duration
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		wait = time.Duration(min(max(secs, 0), int64(maxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(value); err == nil {
		wait = min(max(at.Sub(now), 0), maxRetryAfter)
	}
	return wait
}

// unwrapURLError drops the *url.Error layer, whose message repeats the full
// request URL.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// closeBody reads what is left of a response, within a bound, so that the
// connection can be reused, and closes it.
func closeBody(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainedBody))
	_ = body.Close()
}

// IsCertificateError reports whether err comes from verifying a TLS peer's
// certificate. Such errors persist until someone changes a certificate or
// the config, so retrying them is pointless.
func IsCertificateError(err error) bool {
	var verifyErr *tls.CertificateVerificationError
	var authorityErr x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidErr x509.CertificateInvalidError

	return errors.As(err, &verifyErr) ||
		errors.As(err, &authorityErr) ||
		errors.As(err, &hostnameErr) ||
		errors.As(err, &invalidErr)
}

// oneLine makes text safe for a single log line: control characters become
// spaces and surrounding space is trimmed.
func oneLine(text string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text))
}

// MessagePoster is a notifier that posts one JSON message per event to a
// fixed webhook URL, the shape of chat services' incoming webhooks. Types
// that differ only in their message format build on it.
type MessagePoster struct {
	EventFilter
	typ     string
	url     string
	client  *http.Client
	message func(model.Event) any
}

// NewMessagePoster returns a notifier of type typ that posts message(ev),
// encoded with MarshalJSON, to url. filter decides which events to skip.
func NewMessagePoster(typ, url string, filter EventFilter, message func(model.Event) any) *MessagePoster {
	return &MessagePoster{EventFilter: filter, typ: typ, url: url, client: NewHTTPClient(), message: message}
}

// Type returns the notifier type given to NewMessagePoster.
func (p *MessagePoster) Type() string { return p.typ }

// Notify posts the message built from ev, unless the filter skips ev.
func (p *MessagePoster) Notify(ctx context.Context, ev model.Event) error {
	if p.Skips(ev) {
		return nil
	}

	body, err := MarshalJSON(p.message(ev))
	if err != nil {
		return fmt.Errorf("encode %s message: %w", p.typ, err)
	}
	if err := PostJSON(ctx, p.client, p.url, nil, body); err != nil {
		return fmt.Errorf("%s: %w", p.typ, err)
	}
	return nil
}
