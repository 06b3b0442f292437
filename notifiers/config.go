package notifiers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"sort"
	"strings"

	"github.com/kamerrezz/theminidog/model"
)

// Common holds the settings every notifier type accepts. Config structs embed
// it, so that strict decoding accepts "type" and "send_resolved" everywhere.
type Common struct {
	// Type selects the notifier package. The registry has matched it before
	// a factory runs.
	Type string `json:"type"`
	// SendResolved controls delivery of "resolved" events. Absent means true.
	// Other event kinds, including host.up, are always delivered.
	SendResolved *bool `json:"send_resolved,omitempty"`
}

// Filter returns the event filter that these settings describe.
func (c Common) Filter() EventFilter {
	return EventFilter{dropResolved: c.SendResolved != nil && !*c.SendResolved}
}

// EventFilter decides which events a notifier delivers. Notifiers embed it,
// call Skips at the top of Notify, and so satisfy Skipper, which lets the
// Dispatcher count a skipped event as skipped rather than sent. The zero
// value delivers every event.
type EventFilter struct {
	dropResolved bool
}

// Skips reports whether the notifier drops ev instead of delivering it.
func (f EventFilter) Skips(ev model.Event) bool {
	return f.dropResolved && ev.Event == model.EventResolved
}

// Skipper is implemented by notifiers that drop some events by config. The
// Dispatcher calls Skips before starting a delivery.
type Skipper interface {
	Skips(ev model.Event) bool
}

// FieldError is one invalid setting in a notifier config entry. Msg states
// what is wrong and what to do, as in "missing: set it to the receiver's URL".
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// ConfigErrors collects every invalid setting of one config entry, so that a
// user fixes them all in one round instead of one per start-up.
type ConfigErrors []error

// Add records a problem with field.
func (e *ConfigErrors) Add(field, format string, args ...any) {
	*e = append(*e, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil when no problem was recorded, and the list otherwise.
func (e ConfigErrors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

func (e ConfigErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the individual problems for errors.Is and errors.As.
func (e ConfigErrors) Unwrap() []error { return e }

// DecodeConfig decodes one notifier config entry into dst, a pointer to a
// struct that embeds Common. Unknown fields are rejected, because a
// misspelled optional field (say "sned_resolved") would otherwise be ignored
// without a word. Errors name the field and list the accepted ones.
func DecodeConfig(raw json.RawMessage, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()

	if err := dec.Decode(dst); err != nil {
		return describeDecodeError(err, dst)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the config object: write one JSON object per notifier")
	}
	return nil
}

func describeDecodeError(err error, dst any) error {
	// NOTE: encoding/json reports an unknown field by its bare name only, so
	// for a field inside a nested object the accepted list below, which is
	// the entry's top level, does not apply. No built-in config nests objects
	// other than string maps.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &FieldError{Field: name, Msg: "unknown field: remove it or fix its spelling (accepted: " + strings.Join(jsonFieldNames(reflect.TypeOf(dst)), ", ") + ")"}
	}

	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return &FieldError{Field: typeErr.Field, Msg: fmt.Sprintf("invalid value: expected %s, got a JSON %s", describeType(typeErr.Type), typeErr.Value)}
	}
	if errors.As(err, &typeErr) {
		return fmt.Errorf("invalid config: expected a JSON object, got a JSON %s", typeErr.Value)
	}

	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("invalid JSON at byte %d: %w", syntaxErr.Offset, err)
	}
	return fmt.Errorf("decode config: %w", err)
}

// describeType names a Go type the way a user writing JSON thinks of it.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}

	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "a "), "an ") + "s"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return t.String()
	}
}

// jsonFieldNames lists the JSON member names a struct accepts, including
// those of embedded structs, in sorted order.
func jsonFieldNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}

	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "":
			names = append(names, jsonFieldNames(f.Type)...)
		case !f.IsExported():
			continue
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// ValidateURL checks a receiver address: it must be an absolute http or
// https URL with a host. Problems are added to errs under field. The URL
// itself is never quoted in a message, because chat webhook URLs carry their
// secret token in the path.
func ValidateURL(errs *ConfigErrors, field, raw string) {
	if strings.TrimSpace(raw) == "" {
		errs.Add(field, "missing: set it to the receiver's http:// or https:// address")
		return
	}

	u, err := url.Parse(raw)
	if err != nil {
		errs.Add(field, "not a valid URL: check for spaces, quotes or other stray characters")
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		errs.Add(field, "unsupported scheme %q: use an http:// or https:// address", u.Scheme)
		return
	}
	if u.Host == "" {
		errs.Add(field, "missing host: write the full address, such as https://hooks.example.com/path")
	}
}
