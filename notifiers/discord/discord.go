package discord

import (
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
	notifiers.RegisterConfig(Type, New)
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

// New returns a notifier for cfg, or the validation errors of cfg.
func New(cfg Config) (*notifiers.MessagePoster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return notifiers.NewMessagePoster(Type, cfg.URL, cfg.Filter(), func(ev model.Event) any { return NewMessage(ev) }), nil
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
