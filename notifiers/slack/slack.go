package slack

import (
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
	notifiers.RegisterConfig(Type, New)
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

// New returns a notifier for cfg, or the validation errors of cfg.
func New(cfg Config) (*notifiers.MessagePoster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return notifiers.NewMessagePoster(Type, cfg.URL, cfg.Filter(), func(ev model.Event) any { return NewMessage(ev) }), nil
}

// Message is the incoming-webhook body.
type Message struct {
	Text string `json:"text"`
}

// NewMessage returns the message for ev.
func NewMessage(ev model.Event) Message {
	return Message{Text: entityReplacer.Replace(notifiers.Summary(ev))}
}
