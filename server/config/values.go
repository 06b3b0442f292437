package config

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// funcValue adapts a getter and a setter to flag.Value.
type funcValue struct {
	get func() string
	set func(string) error
}

func (v funcValue) String() string {
	if v.get == nil {
		return ""
	}
	return v.get()
}

func (v funcValue) Set(s string) error { return v.set(s) }

func strVal(field func(*Config) *string) func(*Config) flag.Value {
	return func(c *Config) flag.Value {
		p := field(c)
		return funcValue{get: func() string { return *p }, set: func(s string) error { *p = s; return nil }}
	}
}

// secretVal never prints the value, so -h and error messages cannot leak it.
func secretVal(field func(*Config) *string) func(*Config) flag.Value {
	return func(c *Config) flag.Value {
		p := field(c)
		return funcValue{get: func() string { return "" }, set: func(s string) error { *p = s; return nil }}
	}
}

func durVal(field func(*Config) *time.Duration) func(*Config) flag.Value {
	return func(c *Config) flag.Value {
		p := field(c)
		return funcValue{
			get: func() string { return formatDuration(*p) },
			set: func(s string) error {
				d, err := ParseDuration(s)
				if err != nil {
					return err
				}
				*p = d
				return nil
			},
		}
	}
}

func boolVal(field func(*Config) *bool) func(*Config) flag.Value {
	return func(c *Config) flag.Value {
		p := field(c)
		return funcValue{
			get: func() string { return strconv.FormatBool(*p) },
			set: func(s string) error {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return fmt.Errorf("invalid boolean %q: use true or false", s)
				}
				*p = b
				return nil
			},
		}
	}
}

func int64Val(field func(*Config) *int64) func(*Config) flag.Value {
	return func(c *Config) flag.Value {
		p := field(c)
		return funcValue{
			get: func() string { return strconv.FormatInt(*p, 10) },
			set: func(s string) error {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("invalid integer %q", s)
				}
				*p = n
				return nil
			},
		}
	}
}

func listVal(field func(*Config) *[]string) func(*Config) flag.Value {
	return func(c *Config) flag.Value {
		p := field(c)
		return funcValue{
			get: func() string { return strings.Join(*p, ",") },
			set: func(s string) error {
				*p = nil
				for _, item := range strings.Split(s, ",") {
					if item = strings.TrimSpace(item); item != "" {
						*p = append(*p, item)
					}
				}
				return nil
			},
		}
	}
}

// formatDuration writes whole days as "30d" and anything else in Go form.
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
