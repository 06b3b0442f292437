package notifiers

import (
	"context"
	"encoding/json"
	"errors"
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

// RegisterConfig registers typ with a factory that decodes a config entry
// strictly into C with DecodeConfig and passes it to newNotifier, which
// validates it. It is the usual way for a notifier package to register.
func RegisterConfig[C any, N Notifier](typ string, newNotifier func(C) (N, error)) {
	Register(typ, func(raw json.RawMessage) (Notifier, error) {
		var cfg C
		if err := DecodeConfig(raw, &cfg); err != nil {
			return nil, err
		}
		return newNotifier(cfg)
	})
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
// An error names the entry by its index and type, then the field, as in
// "notifier 1 (slack): url: missing: ...".
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
		n, typ, err := buildOne(raw)
		if err != nil && typ != "" {
			return nil, fmt.Errorf("notifier %d (%s): %w", i, typ, err)
		}
		if err != nil {
			return nil, fmt.Errorf("notifier %d: %w", i, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// buildOne looks up the factory for the entry's type and runs it. It returns
// the type only once the type is known to be registered, so that Build never
// echoes an arbitrary string as a type name.
func buildOne(raw json.RawMessage) (Notifier, string, error) {
	typ, err := entryType(raw)
	if err != nil {
		return nil, "", err
	}

	mu.Lock()
	f, ok := factories[typ]
	mu.Unlock()
	if !ok {
		return nil, "", &FieldError{Field: "type", Msg: fmt.Sprintf("unknown notifier type %q: use one of %s", typ, strings.Join(Types(), ", "))}
	}

	n, err := f(raw)
	if err != nil {
		return nil, typ, err
	}
	if n == nil {
		return nil, typ, fmt.Errorf("the factory returned no notifier and no error: report this as a bug in the %s notifier package", typ)
	}
	return n, typ, nil
}

// entryType reads the "type" member of one config entry.
func entryType(raw json.RawMessage) (string, error) {
	var head map[string]json.RawMessage
	if err := json.Unmarshal(raw, &head); err != nil || head == nil {
		return "", errors.New(`not a JSON object: write each notifier as {"type": ..., ...}`)
	}

	rawType, ok := head["type"]
	if !ok {
		return "", &FieldError{Field: "type", Msg: "missing: set it to one of " + strings.Join(Types(), ", ")}
	}

	var typ string
	if err := json.Unmarshal(rawType, &typ); err != nil {
		return "", &FieldError{Field: "type", Msg: "invalid value: expected a string, one of " + strings.Join(Types(), ", ")}
	}
	if typ == "" {
		return "", &FieldError{Field: "type", Msg: "empty: set it to one of " + strings.Join(Types(), ", ")}
	}
	return typ, nil
}
