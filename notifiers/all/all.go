// Package all compiles in every built-in notifier type. The server imports it
// for its side effects: each imported package registers its type from init.
//
// A new built-in type is one more blank import here. A third-party type is
// one blank import in the program that builds the notifiers.
package all

import (
	_ "github.com/kamerrezz/theminidog/notifiers/discord"
	_ "github.com/kamerrezz/theminidog/notifiers/email"
	_ "github.com/kamerrezz/theminidog/notifiers/pagerduty"
	_ "github.com/kamerrezz/theminidog/notifiers/slack"
	_ "github.com/kamerrezz/theminidog/notifiers/webhook"
)
