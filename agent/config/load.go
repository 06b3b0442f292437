package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// ProgramName is the agent binary's name, used in the -h text.
const ProgramName = "miniobserv-agent"

// setting describes one configuration value: its environment variable, the
// matching flag, the -h text and how a string is parsed into Config.
type setting struct {
	env string
	// kind is the value type shown in -h: URL, string, duration and so on.
	kind  string
	usage string
	// defaultText renders the default for -h from Default(), so that the
	// help text cannot drift from the real default.
	defaultText func(Config) string
	apply       func(c *Config, value string) error
}

// flagName derives the flag from the variable: SERVER_URL -> server-url.
func (s *setting) flagName() string {
	return strings.ReplaceAll(strings.ToLower(s.env), "_", "-")
}

var settings = []setting{
	{
		env: "SERVER_URL", kind: "URL",
		usage:       "base URL of the MiniObserv server, http or https; a trailing slash is allowed",
		defaultText: func(Config) string { return "required" },
		apply:       func(c *Config, v string) error { c.ServerURL = v; return nil },
	},
	{
		env: "AGENT_TOKEN", kind: "string",
		usage:       "HS256 secret shared with the server, at least 16 characters; prefer the variable, because flags are visible in the process list",
		defaultText: func(Config) string { return "required" },
		apply:       func(c *Config, v string) error { c.AgentToken = Secret(v); return nil },
	},
	{
		env: "AGENT_HOST", kind: "string",
		usage:       "host name sent with every batch",
		defaultText: func(d Config) string { return fmt.Sprintf("the OS host name, %q", d.AgentHost) },
		apply:       func(c *Config, v string) error { c.AgentHost = v; return nil },
	},
	{
		env: "COLLECT_INTERVAL", kind: "duration",
		usage:       "time between two metric collections, from 1s to 300s",
		defaultText: func(d Config) string { return d.CollectInterval.String() },
		apply:       durationSetter(func(c *Config) *time.Duration { return &c.CollectInterval }),
	},
	{
		env: "LOG_LEVEL", kind: "level",
		usage:       "minimum level of the agent's own log: debug, info, warn or error",
		defaultText: func(d Config) string { return strings.ToLower(d.LogLevel.String()) },
		apply:       applyLogLevel,
	},
	{
		env: "LOG_FORMAT", kind: "string",
		usage:       "format of the agent's own log on stderr: text or json",
		defaultText: func(d Config) string { return d.LogFormat },
		apply:       func(c *Config, v string) error { c.LogFormat = strings.ToLower(v); return nil },
	},
	{
		env: "LOG_PATHS", kind: "list",
		usage:       "comma-separated log files or glob patterns to ship",
		defaultText: func(Config) string { return "none" },
		apply:       listSetter(func(c *Config) *[]string { return &c.LogPaths }),
	},
	{
		env: "LOG_STATE_FILE", kind: "path",
		usage:       "file that keeps the log read offsets across restarts",
		defaultText: func(d Config) string { return d.LogStateFile },
		apply:       func(c *Config, v string) error { c.LogStateFile = v; return nil },
	},
	{
		env: "LOG_FROM_START", kind: "bool",
		usage:       "read log files without a saved offset from their beginning instead of their end",
		defaultText: func(d Config) string { return strconv.FormatBool(d.LogFromStart) },
		apply:       applyLogFromStart,
	},
	{
		env: "LOG_MAX_AGE", kind: "duration",
		usage:       "oldest timestamp a log line keeps; an older line is stamped with its read time, because the server rejects entries older than its LOGS_RETENTION",
		defaultText: func(d Config) string { return d.LogMaxAge.String() },
		apply:       durationSetter(func(c *Config) *time.Duration { return &c.LogMaxAge }),
	},
	{
		env: "SHUTDOWN_TIMEOUT", kind: "duration",
		usage:       "time allowed for flushing queued batches after SIGTERM or SIGINT",
		defaultText: func(d Config) string { return d.ShutdownTimeout.String() },
		apply:       durationSetter(func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	},
	{
		env: "CA_FILE", kind: "path",
		usage:       "PEM bundle of CA certificates trusted for the server, in addition to the system roots",
		defaultText: func(Config) string { return "system roots only" },
		apply:       func(c *Config, v string) error { c.CAFile = v; return nil },
	},
	{
		env: "COLLECTORS", kind: "list",
		usage:       "comma-separated collector names to run",
		defaultText: func(Config) string { return "every registered collector" },
		apply:       listSetter(func(c *Config) *[]string { return &c.Collectors }),
	},
	{
		env: "DISK_MOUNTS", kind: "list",
		usage:       "comma-separated mount points to report",
		defaultText: func(Config) string { return "every real filesystem" },
		apply:       listSetter(func(c *Config) *[]string { return &c.DiskMounts }),
	},
	{
		env: "NET_IFACES", kind: "list",
		usage:       "comma-separated network interfaces to report",
		defaultText: func(Config) string { return "every physical interface" },
		apply:       listSetter(func(c *Config) *[]string { return &c.NetIfaces }),
	},
	{
		env: "HOST_ROOT", kind: "path",
		usage:       "path of the host root filesystem inside the agent, such as /host in a container",
		defaultText: func(d Config) string { return d.HostRoot },
		apply:       func(c *Config, v string) error { c.HostRoot = v; return nil },
	},
	{
		env: "QUEUE_SIZE", kind: "int",
		usage:       "metric queue capacity in batches; when full, the newest batch is dropped",
		defaultText: func(d Config) string { return strconv.Itoa(d.QueueSize) },
		apply:       intSetter(func(c *Config) *int { return &c.QueueSize }),
	},
	{
		env: "LOG_QUEUE_SIZE", kind: "int",
		usage:       "log queue capacity in batches of up to 500 entries; when full, the newest batch is dropped",
		defaultText: func(d Config) string { return strconv.Itoa(d.LogQueueSize) },
		apply:       intSetter(func(c *Config) *int { return &c.LogQueueSize }),
	},
	{
		env: "RETRY_WAIT_MAX", kind: "duration",
		usage:       "maximum wait between two send attempts, also capping the server's Retry-After",
		defaultText: func(d Config) string { return d.RetryWaitMax.String() },
		apply:       durationSetter(func(c *Config) *time.Duration { return &c.RetryWaitMax }),
	},
	{
		env: "RETRY_MAX", kind: "int",
		usage:       "retries in one delivery round; a batch that still fails stays queued and is retried after RETRY_WAIT_MAX",
		defaultText: func(d Config) string { return strconv.Itoa(d.RetryMax) },
		apply:       intSetter(func(c *Config) *int { return &c.RetryMax }),
	},
}

func durationSetter(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("invalid duration %q: use a number with a unit, such as 10s or 1m", v)
		}
		*field(c) = d
		return nil
	}
}

func intSetter(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("invalid integer %q", v)
		}
		*field(c) = n
		return nil
	}
}

func listSetter(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = SplitList(v)
		return nil
	}
}

func applyLogLevel(c *Config, v string) error {
	levels := map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo,
		"warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError,
	}
	level, ok := levels[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return fmt.Errorf("invalid level %q: use debug, info, warn or error", v)
	}
	c.LogLevel = level
	return nil
}

func applyLogFromStart(c *Config, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("invalid boolean %q: use true or false", v)
	}
	c.LogFromStart = b
	return nil
}

// SplitList splits a comma-separated setting, trimming spaces and dropping
// empty items, so that "a, b," is [a b].
func SplitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// flagValue records the raw text of one flag. Parsing happens after all
// flags are read, so that every bad value is reported, not only the first.
type flagValue struct {
	raw    string
	isSet  bool
	isBool bool
}

func (f *flagValue) String() string { return f.raw }

func (f *flagValue) Set(v string) error {
	f.raw, f.isSet = v, true
	return nil
}

// IsBoolFlag lets a bool setting be given as a bare -log-from-start.
func (f *flagValue) IsBoolFlag() bool { return f.isBool }

// Load builds the configuration from Default, the environment read through
// lookupEnv (os.LookupEnv in the agent), and args, the command-line flags
// without the program name. A flag wins over its variable, and an empty
// value counts as unset. The result is validated. For -h, Load writes the
// list of settings to output and returns flag.ErrHelp.
func Load(args []string, lookupEnv func(string) (string, bool), output io.Writer) (Config, error) {
	cfg := Default()

	flags, values := newFlagSet()
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			PrintUsage(output)
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: run %s -h to list the settings", err, ProgramName)
	}
	if flags.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q: settings are flags such as -server-url, run %s -h to list them", flags.Arg(0), ProgramName)
	}

	problems, failed := applySettings(&cfg, values, lookupEnv)
	problems = append(problems, validationProblems(&cfg, failed)...)
	if len(problems) > 0 {
		return cfg, &Error{Problems: problems}
	}
	return cfg, nil
}

func newFlagSet() (*flag.FlagSet, []*flagValue) {
	flags := flag.NewFlagSet(ProgramName, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.Usage = func() {}

	values := make([]*flagValue, len(settings))
	for i := range settings {
		values[i] = &flagValue{isBool: settings[i].kind == "bool"}
		flags.Var(values[i], settings[i].flagName(), settings[i].usage)
	}
	return flags, values
}

// applySettings applies each setting's variable and then its flag. It
// returns the parse problems and the variables that had one.
func applySettings(cfg *Config, values []*flagValue, lookupEnv func(string) (string, bool)) ([]string, map[string]bool) {
	var problems []string
	failed := map[string]bool{}

	for i := range settings {
		s := &settings[i]
		raw, _ := lookupEnv(s.env)
		source := s.env
		if values[i].isSet {
			raw, source = values[i].raw, fmt.Sprintf("%s (flag -%s)", s.env, s.flagName())
		}
		if raw == "" {
			continue
		}
		if err := s.apply(cfg, raw); err != nil {
			problems = append(problems, source+": "+err.Error())
			failed[s.env] = true
		}
	}
	return problems, failed
}

// validationProblems runs Validate and leaves out problems of settings
// whose text did not parse, which were already reported.
func validationProblems(cfg *Config, failed map[string]bool) []string {
	var verr *Error
	if !errors.As(cfg.Validate(), &verr) {
		return nil
	}

	var problems []string
	for _, p := range verr.Problems {
		name, _, _ := strings.Cut(p, ":")
		if !failed[name] {
			problems = append(problems, p)
		}
	}
	return problems
}

// PrintUsage writes the -h text: each setting with its flag, variable,
// type or unit, meaning and default.
func PrintUsage(w io.Writer) {
	defaults := Default()

	fmt.Fprintf(w, "Usage:\n  %s [flags]    run the agent\n  %s version    print the version\n\n", ProgramName, ProgramName)
	fmt.Fprintf(w, "Each setting is read from its environment variable; the matching flag overrides it.\n")
	fmt.Fprintf(w, "Durations take a unit (500ms, 10s, 1m); lists are comma-separated.\n\n")
	for i := range settings {
		s := &settings[i]
		fmt.Fprintf(w, "  -%s %s  (env %s)\n", s.flagName(), s.kind, s.env)
		fmt.Fprintf(w, "        %s (default: %s)\n", s.usage, s.defaultText(defaults))
	}
}
