package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// Type is the config "type" of this notifier.
const Type = "slack"

// entityReplacer escapes the three characters Slack's message formatting
// treats as control characters.
var entityReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func init() {
	notifiers.Register(Type, build)
}

// Config is the JSON config entry of a Slack notifier.
type Config struct {
	notifiers.Common
	// URL is the incoming webhook address Slack generated.
	URL string `json:"url"`
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs notifiers.ConfigErrors
	notifiers.ValidateURL(&errs, "url", c.URL)
	return errs.Err()
}

// Notifier posts events to one Slack incoming webhook.
type Notifier struct {
	notifiers.EventFilter
	url    string
	client *http.Client
}

// New returns a notifier for cfg, or the validation errors of cfg.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Notifier{EventFilter: cfg.Filter(), url: cfg.URL, client: notifiers.NewHTTPClient()}, nil
}

func build(raw json.RawMessage) (notifiers.Notifier, error) {
	var cfg Config
	if err := notifiers.DecodeConfig(raw, &cfg); err != nil {
		return nil, err
	}
	return New(cfg)
}

// Type returns "slack".
func (n *Notifier) Type() string { return Type }

// Notify posts ev as a Slack message.
func (n *Notifier) Notify(ctx context.Context, ev model.Event) error {
	if n.Skips(ev) {
		return nil
	}

	body, err := notifiers.MarshalJSON(NewMessage(ev))
	if err != nil {
		return fmt.Errorf("encode slack message: %w", err)
	}
	if err := notifiers.PostJSON(ctx, n.client, n.url, nil, body); err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// Message is the incoming-webhook body.
type Message struct {
	Text string `json:"text"`
}

// NewMessage returns the message for ev.
func NewMessage(ev model.Event) Message {
	return Message{Text: entityReplacer.Replace(notifiers.Summary(ev))}
}
