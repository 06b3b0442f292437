package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf16"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// Type is the config "type" of this notifier.
const Type = "discord"

// MaxContentLen is Discord's limit on a message's content, in characters.
// Content is measured in UTF-16 code units, which are never fewer than
// Unicode code points, so the cut text fits under either way of counting.
const MaxContentLen = 2000

var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`,
)

func init() {
	notifiers.Register(Type, build)
}

// Config is the JSON config entry of a Discord notifier.
type Config struct {
	notifiers.Common
	// URL is the channel webhook address Discord generated.
	URL string `json:"url"`
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs notifiers.ConfigErrors
	notifiers.ValidateURL(&errs, "url", c.URL)
	return errs.Err()
}

// Notifier posts events to one Discord webhook.
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

// Type returns "discord".
func (n *Notifier) Type() string { return Type }

// Notify posts ev as a Discord message.
func (n *Notifier) Notify(ctx context.Context, ev model.Event) error {
	if n.Skips(ev) {
		return nil
	}

	body, err := notifiers.MarshalJSON(NewMessage(ev))
	if err != nil {
		return fmt.Errorf("encode discord message: %w", err)
	}
	if err := notifiers.PostJSON(ctx, n.client, n.url, nil, body); err != nil {
		return fmt.Errorf("discord: %w", err)
	}
	return nil
}

// Message is the execute-webhook body.
type Message struct {
	Content         string          `json:"content"`
	AllowedMentions AllowedMentions `json:"allowed_mentions"`
}

// AllowedMentions lists the mention kinds Discord may turn into pings.
type AllowedMentions struct {
	Parse []string `json:"parse"`
}

// NewMessage returns the message for ev, with no mentions allowed.
func NewMessage(ev model.Event) Message {
	content := markdownEscaper.Replace(notifiers.Summary(ev))
	return Message{
		Content:         truncate(content, MaxContentLen),
		AllowedMentions: AllowedMentions{Parse: []string{}},
	}
}

// truncate cuts s to at most limit UTF-16 code units, ending a cut text with
// "…", and never splits a character.
func truncate(s string, limit int) string {
	if utf16Len(s) <= limit {
		return s
	}

	const ellipsis = "…"
	budget := limit - utf16Len(ellipsis)
	var b strings.Builder
	for _, r := range s {
		width := utf16.RuneLen(r)
		if width < 0 {
			width = 1 // invalid UTF-8 becomes U+FFFD, one unit
		}
		if budget < width {
			break
		}
		budget -= width
		b.WriteRune(r)
	}
	return b.String() + ellipsis
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}
