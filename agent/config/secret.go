package config

import "log/slog"

// Secret is a string that must never appear in logs or error messages. Its
// String, GoString and LogValue methods return a placeholder, so printing a
// Config or logging the field by mistake leaks nothing. Convert it with
// string(s) where the value itself is needed.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string { return redacted }

// GoString keeps the secret out of %#v output.
func (s Secret) GoString() string { return redacted }

// LogValue keeps the secret out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
