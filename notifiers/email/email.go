package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// Type is the config "type" of this notifier.
const Type = "email"

// DefaultPort is the mail submission port, which expects STARTTLS.
const DefaultPort = 587

// implicitTLSPort expects a TLS handshake before any SMTP, which this
// notifier does not speak. A connection there would wait for the greeting
// until the deadline.
const implicitTLSPort = 465

func init() {
	notifiers.RegisterConfig(Type, New)
}

// Config is the JSON config entry of an email notifier.
type Config struct {
	notifiers.Common
	// Host is the SMTP server's host name or IP address, without a port.
	Host string `json:"host"`
	// Port defaults to DefaultPort.
	Port int `json:"port,omitempty"`
	// From is the sender, as "alerts@example.com" or
	// "MiniObserv <alerts@example.com>".
	From string `json:"from"`
	// To lists the recipients, in the same forms as From.
	To []string `json:"to"`
	// Username and Password authenticate after STARTTLS. Set both or neither.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// CAFile is a PEM bundle that replaces the system roots when verifying
	// the server certificate.
	CAFile string `json:"ca_file,omitempty"`
	// InsecurePlaintext allows a server without STARTTLS. Only for a local
	// relay: mail is sent unencrypted.
	InsecurePlaintext bool `json:"insecure_plaintext,omitempty"`
}

// Validate reports every invalid setting. It does not read CAFile, but New
// does.
func (c Config) Validate() error {
	var errs notifiers.ConfigErrors
	validateHost(&errs, c.Host)
	validatePort(&errs, c.Port)
	validateAddresses(&errs, c.From, c.To)
	validateCredentials(&errs, c)
	return errs.Err()
}

func validateHost(errs *notifiers.ConfigErrors, host string) {
	switch {
	case strings.TrimSpace(host) == "":
		errs.Add("host", "missing: set it to the SMTP server's host name, such as smtp.example.com")
	case strings.Contains(host, "://"):
		errs.Add("host", "contains a scheme: write only the host name, such as smtp.example.com")
	case net.ParseIP(host) == nil && strings.Contains(host, ":"):
		errs.Add("host", "contains a port: move the port number to the port field")
	}
}

func validatePort(errs *notifiers.ConfigErrors, port int) {
	switch {
	case port < 0 || port > 65535:
		errs.Add("port", "%d is not a TCP port: use 1-65535, or leave it out for %d", port, DefaultPort)
	case port == implicitTLSPort:
		errs.Add("port", "%d expects implicit TLS, which this notifier does not support: use the submission port %d with STARTTLS", port, DefaultPort)
	}
}

func validateAddresses(errs *notifiers.ConfigErrors, from string, to []string) {
	if strings.TrimSpace(from) == "" {
		errs.Add("from", "missing: set the sender address, such as alerts@example.com")
	} else if _, err := mail.ParseAddress(from); err != nil {
		errs.Add("from", "invalid address: %v", err)
	}

	if len(to) == 0 {
		errs.Add("to", "missing: list at least one recipient, such as [\"ops@example.com\"]")
	}
	for i, addr := range to {
		if _, err := mail.ParseAddress(addr); err != nil {
			errs.Add(fmt.Sprintf("to[%d]", i), "invalid address: %v", err)
		}
	}
}

func validateCredentials(errs *notifiers.ConfigErrors, c Config) {
	if c.Username == "" && c.Password != "" {
		errs.Add("username", "missing while password is set: set both or neither")
	}
	if c.Username != "" && c.Password == "" {
		errs.Add("password", "missing while username is set: set both or neither")
	}

	if !c.InsecurePlaintext {
		return
	}
	if c.Username != "" {
		errs.Add("insecure_plaintext", "would send the username and password unencrypted: remove the credentials or use a server with STARTTLS")
	}
	if c.CAFile != "" {
		errs.Add("insecure_plaintext", "leaves ca_file unused, because no TLS is negotiated: remove one of the two")
	}
}

// Notifier sends events as mail through one SMTP server.
type Notifier struct {
	notifiers.EventFilter
	host      string
	addr      string
	from      *mail.Address
	to        []*mail.Address
	username  string
	password  string
	tlsConfig *tls.Config // nil with insecure_plaintext
	now       func() time.Time
}

// New returns a notifier for cfg, or the errors of cfg, including an
// unreadable CAFile.
func New(cfg Config) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	from, _ := mail.ParseAddress(cfg.From) // validated above
	to := make([]*mail.Address, len(cfg.To))
	for i, addr := range cfg.To {
		to[i], _ = mail.ParseAddress(addr)
	}

	n := &Notifier{
		EventFilter: cfg.Filter(),
		host:        cfg.Host,
		addr:        net.JoinHostPort(cfg.Host, strconv.Itoa(port)),
		from:        from,
		to:          to,
		username:    cfg.Username,
		password:    cfg.Password,
		now:         time.Now,
	}
	if cfg.InsecurePlaintext {
		return n, nil
	}

	roots, err := loadRoots(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	n.tlsConfig = &tls.Config{ServerName: cfg.Host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	return n, nil
}

// loadRoots reads a PEM bundle. An empty path means the system roots (nil).
func loadRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}

	pemData, err := os.ReadFile(path)
	if err != nil {
		return nil, &notifiers.FieldError{Field: "ca_file", Msg: fmt.Sprintf("cannot read it: %v", err)}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, &notifiers.FieldError{Field: "ca_file", Msg: fmt.Sprintf("no PEM certificate found in %s: point it at a file with -----BEGIN CERTIFICATE----- blocks", path)}
	}
	return pool, nil
}

// Type returns "email".
func (n *Notifier) Type() string { return Type }

// Notify sends one mail for ev to every recipient.
func (n *Notifier) Notify(ctx context.Context, ev model.Event) error {
	if n.Skips(ev) {
		return nil
	}

	msg, err := n.message(ev, n.now())
	if err != nil {
		return fmt.Errorf("email: build message: %w", err)
	}
	return n.send(ctx, msg)
}
