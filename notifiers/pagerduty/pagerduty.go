package pagerduty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// Type is the config "type" of this notifier.
const Type = "pagerduty"

// DefaultURL is the public Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// Limits of the Events API v2.
const (
	RoutingKeyLen = 32
	MaxSummaryLen = 1024
)

// Severities accepted by the Events API v2.
var Severities = []string{"critical", "error", "warning", "info"}

// Client identifies MiniObserv as the monitoring tool in PagerDuty's UI.
const Client = "MiniObserv"

func init() {
	notifiers.RegisterConfig(Type, New)
}

// Config is the JSON config entry of a PagerDuty notifier.
type Config struct {
	notifiers.Common
	// RoutingKey is the 32-character Integration Key of the service.
	RoutingKey string `json:"routing_key"`
	// Severity of triggered alerts, "critical" by default.
	Severity string `json:"severity,omitempty"`
	// URL overrides DefaultURL, for a proxy or a test receiver.
	URL string `json:"url,omitempty"`
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs notifiers.ConfigErrors

	switch {
	case c.RoutingKey == "":
		errs.Add("routing_key", "missing: copy the Integration Key of an Events API v2 integration on the service")
	case len(c.RoutingKey) != RoutingKeyLen || strings.ContainsAny(c.RoutingKey, " \t\r\n"):
		errs.Add("routing_key", "must be the %d-character Integration Key, got %d characters: copy it again without spaces", RoutingKeyLen, utf8.RuneCountInString(c.RoutingKey))
	}
	if c.Severity != "" && !slices.Contains(Severities, c.Severity) {
		errs.Add("severity", "unknown severity %q: use one of %s", c.Severity, strings.Join(Severities, ", "))
	}
	if c.URL != "" {
		notifiers.ValidateURL(&errs, "url", c.URL)
	}
	return errs.Err()
}

// Notifier sends events to one PagerDuty service.
type Notifier struct {
	notifiers.EventFilter
	routingKey string
	severity   string
	url        string
	client     *http.Client
}

// New returns a notifier for cfg, or the validation errors of cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	n := &Notifier{
		EventFilter: cfg.Filter(),
		routingKey:  cfg.RoutingKey,
		severity:    cfg.Severity,
		url:         cfg.URL,
		client:      notifiers.NewHTTPClient(),
	}
	if n.severity == "" {
		n.severity = "critical"
	}
	if n.url == "" {
		n.url = DefaultURL
	}
	return n, nil
}

// Type returns "pagerduty".
func (n *Notifier) Type() string { return Type }

// Notify sends a trigger or resolve event for ev.
func (n *Notifier) Notify(ctx context.Context, ev model.Event) error {
	if n.Skips(ev) {
		return nil
	}

	body, err := notifiers.MarshalJSON(n.NewEvent(ev))
	if err != nil {
		return fmt.Errorf("encode pagerduty event: %w", err)
	}
	if err := notifiers.PostJSON(ctx, n.client, n.url, nil, body); err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	return nil
}

// Event is an Events API v2 request body.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Client      string   `json:"client,omitempty"`
	Payload     *Payload `json:"payload,omitempty"`
}

// Payload describes a triggered alert. Resolve events carry none.
type Payload struct {
	Summary   string `json:"summary"`
	Source    string `json:"source"`
	Severity  string `json:"severity"`
	Timestamp string `json:"timestamp,omitempty"`
	Class     string `json:"class,omitempty"`
	// CustomDetails is the MiniObserv event itself, as the webhook
	// notifier sends it.
	CustomDetails model.Event `json:"custom_details"`
}

// NewEvent returns the request body for ev: "resolve" for resolved and
// host.up, "trigger" for every other kind.
func (n *Notifier) NewEvent(ev model.Event) Event {
	out := Event{RoutingKey: n.routingKey, DedupKey: DedupKey(ev)}
	if ev.Event == model.EventResolved || ev.Event == model.EventHostUp {
		out.EventAction = "resolve"
		return out
	}

	out.EventAction = "trigger"
	out.Client = Client
	out.Payload = &Payload{
		Summary:       truncate(notifiers.Summary(ev), MaxSummaryLen),
		Source:        ev.Host,
		Severity:      n.severity,
		Class:         ev.Name,
		CustomDetails: ev,
	}
	if ev.FiredAt != nil {
		out.Payload.Timestamp = ev.FiredAt.UTC().Format(time.RFC3339)
	}
	if out.Payload.Source == "" {
		out.Payload.Source = "miniobserv" // the API rejects an empty source
	}
	return out
}

// DedupKey returns the deduplication key of ev. The package documentation
// gives its exact derivation.
func DedupKey(ev model.Event) string {
	var parts []any
	if ev.Event == model.EventHostDown || ev.Event == model.EventHostUp {
		parts = []any{"host", ev.Host}
	} else {
		rule := ""
		if ev.RuleID != nil {
			rule = *ev.RuleID
		}
		labels := ev.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		parts = []any{"rule", rule, ev.Host, labels}
	}

	// parts contains only strings and a string map, which encoding/json
	// always encodes without error.
	canonical, _ := notifiers.MarshalJSON(parts)
	sum := sha256.Sum256(canonical)
	return "miniobserv-" + hex.EncodeToString(sum[:])
}

// truncate cuts s to at most limit characters, ending a cut text with "…".
func truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	runes := []rune(s)
	return string(runes[:limit-1]) + "…"
}
