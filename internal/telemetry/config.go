package telemetry

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Export protocols accepted in OTEL_EXPORTER_OTLP_PROTOCOL and its
// per-signal forms.
const (
	protocolHTTP = "http/protobuf"
	protocolGRPC = "grpc"
)

// signal names one kind of telemetry and the environment variables that
// configure its export.
type signal struct {
	name        string // traces or metrics, as in the variable names
	exporterVar string // OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER
}

var (
	tracesSignal  = signal{name: "traces", exporterVar: "OTEL_TRACES_EXPORTER"}
	metricsSignal = signal{name: "metrics", exporterVar: "OTEL_METRICS_EXPORTER"}
)

func (s signal) endpointVar() string {
	return "OTEL_EXPORTER_OTLP_" + strings.ToUpper(s.name) + "_ENDPOINT"
}

func (s signal) protocolVar() string {
	return "OTEL_EXPORTER_OTLP_" + strings.ToUpper(s.name) + "_PROTOCOL"
}

// exportConfig is the export setting of one signal, read from the
// environment.
type exportConfig struct {
	enabled  bool
	protocol string
	endpoint string // for logging only; the exporters read the variables themselves
}

// sdkDisabled reports whether OTEL_SDK_DISABLED turns the SDK off.
func sdkDisabled() (bool, error) {
	v := strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED"))
	if v == "" {
		return false, nil
	}
	disabled, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("OTEL_SDK_DISABLED=%q is invalid: use true or false", v)
	}
	return disabled, nil
}

// readExportConfig decides from the standard OTel variables whether a
// signal is exported and over which protocol. A signal is exported only
// when its exporter is otlp (the default) and an endpoint is set, either
// the shared OTEL_EXPORTER_OTLP_ENDPOINT or the per-signal one. The OTel
// default endpoint (localhost:4317 or 4318) is deliberately not assumed, so
// an unconfigured binary sends nothing.
func readExportConfig(s signal) (exportConfig, error) {
	exporter, err := readExporter(s)
	if err != nil || exporter == "none" {
		return exportConfig{}, err
	}

	endpointVar, endpoint := firstSet(s.endpointVar(), "OTEL_EXPORTER_OTLP_ENDPOINT")
	if endpoint == "" {
		return exportConfig{}, nil
	}
	if err := checkEndpoint(endpointVar, endpoint); err != nil {
		return exportConfig{}, err
	}

	protocol, err := readProtocol(s)
	if err != nil {
		return exportConfig{}, err
	}
	return exportConfig{enabled: true, protocol: protocol, endpoint: endpoint}, nil
}

// readExporter returns otlp or none. The variable may list several
// exporters separated by commas; only otlp and none are built in.
func readExporter(s signal) (string, error) {
	v := strings.TrimSpace(os.Getenv(s.exporterVar))
	if v == "" {
		return "otlp", nil
	}

	result := "none"
	for _, name := range strings.Split(v, ",") {
		switch strings.TrimSpace(name) {
		case "otlp":
			result = "otlp"
		case "none":
		default:
			return "", fmt.Errorf("%s=%q is not supported: use otlp or none", s.exporterVar, v)
		}
	}
	return result, nil
}

func readProtocol(s signal) (string, error) {
	name, v := firstSet(s.protocolVar(), "OTEL_EXPORTER_OTLP_PROTOCOL")
	switch v {
	case "", protocolHTTP:
		return protocolHTTP, nil
	case protocolGRPC:
		return protocolGRPC, nil
	default:
		return "", fmt.Errorf("%s=%q is not supported: use %s or %s", name, v, protocolHTTP, protocolGRPC)
	}
}

// checkEndpoint rejects an endpoint the exporters would otherwise replace
// silently with their localhost default.
func checkEndpoint(name, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q is not a valid URL: use http://HOST:PORT or https://HOST:PORT", name, endpoint)
	}
	return nil
}

// firstSet returns the first of the named variables that is set to a
// non-empty value, and that value.
func firstSet(names ...string) (string, string) {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return n, v
		}
	}
	return names[0], ""
}

// envSet reports whether the named variable has a non-empty value, so a
// default of ours never overrides what the operator chose. Like the OTel
// SDK, it treats an empty value as unset.
func envSet(name string) bool {
	return strings.TrimSpace(os.Getenv(name)) != ""
}
