package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// Type is the config "type" of this notifier.
const Type = "webhook"

// Signature headers. Header names are case-insensitive, so Go receivers get
// them canonicalised as "X-Miniobserv-Signature", and http.Header.Get finds
// them under either spelling.
const (
	HeaderSignature = "X-MiniObserv-Signature"
	HeaderTimestamp = "X-MiniObserv-Timestamp"
)

// reservedHeaders are set by the notifier or the HTTP client and cannot be
// overridden from the config.
var reservedHeaders = []string{
	"Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection",
	HeaderSignature, HeaderTimestamp,
}

func init() {
	notifiers.RegisterConfig(Type, New)
}

// Config is the JSON config entry of a webhook notifier.
type Config struct {
	notifiers.Common
	// URL receives the POST requests, over http or https.
	URL string `json:"url"`
	// Headers are added to every request, for example an Authorization
	// header the receiver expects.
	Headers map[string]string `json:"headers,omitempty"`
	// Secret, when set, signs every request as the package documentation
	// describes.
	Secret string `json:"secret,omitempty"`
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs notifiers.ConfigErrors
	notifiers.ValidateURL(&errs, "url", c.URL)

	names := slices.Sorted(maps.Keys(c.Headers))
	for _, name := range names {
		value := c.Headers[name]
		field := "headers." + name
		switch {
		case !validHeaderName(name):
			errs.Add(field, "invalid header name: use letters, digits and - only")
		case isReserved(name):
			errs.Add(field, "reserved header, set by the notifier itself: remove it")
		case strings.ContainsAny(value, "\r\n\x00"):
			errs.Add(field, "the value contains a line break or NUL byte: remove it")
		}
	}
	return errs.Err()
}

// Notifier posts events to one URL.
type Notifier struct {
	notifiers.EventFilter
	url     string
	headers http.Header
	secret  []byte
	client  *http.Client
	now     func() time.Time
}

// New returns a notifier for cfg, or the validation errors of cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	headers := make(http.Header, len(cfg.Headers))
	for name, value := range cfg.Headers {
		headers.Set(name, value)
	}

	return &Notifier{
		EventFilter: cfg.Filter(),
		url:         cfg.URL,
		headers:     headers,
		secret:      []byte(cfg.Secret),
		client:      notifiers.NewHTTPClient(),
		now:         time.Now,
	}, nil
}

// Type returns "webhook".
func (n *Notifier) Type() string { return Type }

// Notify posts ev as JSON, signed when a secret is configured.
func (n *Notifier) Notify(ctx context.Context, ev model.Event) error {
	if n.Skips(ev) {
		return nil
	}

	body, err := notifiers.MarshalJSON(ev)
	if err != nil {
		return fmt.Errorf("encode webhook body: %w", err)
	}

	header := n.headers.Clone()
	if len(n.secret) > 0 {
		timestamp := strconv.FormatInt(n.now().Unix(), 10)
		// Assigned directly rather than with Set, so that the wire shows
		// the documented spelling instead of the canonical one.
		header[HeaderTimestamp] = []string{timestamp}
		header[HeaderSignature] = []string{Sign(n.secret, timestamp, body)}
	}

	if err := notifiers.PostJSON(ctx, n.client, n.url, header, body); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// Sign returns the signature header value for body sent at timestamp (unix
// seconds, as written in the timestamp header): "sha256=" followed by the
// hex HMAC-SHA256 of timestamp + "." + body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrMissingSignature = errors.New("missing signature or timestamp header")
	ErrBadSignature     = errors.New("signature does not match the body")
	ErrStaleTimestamp   = errors.New("timestamp outside the accepted window")
)

// Verify checks a received webhook request: the signature must match body
// under secret, and the timestamp must lie within tolerance of now. body is
// the raw request body, read before any JSON parsing.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	timestamp := header.Get(HeaderTimestamp)
	signature := header.Get(HeaderSignature)
	if timestamp == "" || signature == "" {
		return ErrMissingSignature
	}

	if !hmac.Equal([]byte(signature), []byte(Sign(secret, timestamp, body))) {
		return ErrBadSignature
	}

	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrStaleTimestamp, timestamp)
	}
	if skew := now.Sub(time.Unix(secs, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("%w: %s away from now, tolerance %s", ErrStaleTimestamp, skew, tolerance)
	}
	return nil
}

func isReserved(name string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// validHeaderName accepts the token characters of RFC 9110, section 5.6.2.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
