// Package notifiers is the registry that notification channels join from
// their init functions, keyed by type ("webhook", "slack", ...). The server
// builds the notifiers listed in ALERT_NOTIFICATIONS through it.
package notifiers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/kamerrezz/theminidog/model"
)

// Notifier delivers one event. Notify must honour ctx's deadline.
type Notifier interface {
	Type() string
	Notify(ctx context.Context, ev model.Event) error
}

// Factory builds a notifier from its JSON config entry (the whole object,
// including "type") and rejects invalid settings with an error naming the
// field.
type Factory func(raw json.RawMessage) (Notifier, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
)

// Register adds a notifier type. It panics on an empty or duplicate type,
// which is a programming error that must stop the server at start-up.
func Register(typ string, f Factory) {
	mu.Lock()
	defer mu.Unlock()

	if typ == "" || f == nil {
		panic("notifiers: Register needs a type and a factory")
	}
	if _, dup := factories[typ]; dup {
		panic(fmt.Sprintf("notifiers: type %q registered twice", typ))
	}
	factories[typ] = f
}

// Types returns the registered types in sorted order.
func Types() []string {
	mu.Lock()
	defer mu.Unlock()

	types := make([]string, 0, len(factories))
	for t := range factories {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// Build parses a JSON array of notifier configs and constructs each entry.
// Errors name the entry by index and type.
func Build(configJSON string) ([]Notifier, error) {
	if strings.TrimSpace(configJSON) == "" {
		return nil, nil
	}

	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(configJSON), &entries); err != nil {
		return nil, fmt.Errorf("not a JSON array of notifier objects: %w", err)
	}

	out := make([]Notifier, 0, len(entries))
	for i, raw := range entries {
		n, err := buildOne(raw)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out = append(out, n)
	}
	return out, nil
}

func buildOne(raw json.RawMessage) (Notifier, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}

	mu.Lock()
	f, ok := factories[head.Type]
	mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("type: unknown notifier type %q: use one of %s", head.Type, strings.Join(Types(), ", "))
	}

	n, err := f(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", head.Type, err)
	}
	return n, nil
}
