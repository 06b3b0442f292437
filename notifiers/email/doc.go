// Package email is the "email" notifier: it sends one plain-text mail per
// event through an SMTP server, over STARTTLS.
//
// Config entry:
//
//	{
//	  "type": "email",
//	  "host": "smtp.example.com",          // required, host name or IP only
//	  "port": 587,                         // optional, default 587 (submission)
//	  "from": "MiniObserv <alerts@example.com>",
//	  "to": ["ops@example.com"],           // required, one or more
//	  "username": "alerts@example.com",    // optional; needs password
//	  "password": "...",
//	  "ca_file": "/etc/miniobserv/smtp-ca.pem",  // optional, see below
//	  "insecure_plaintext": false,         // optional, see below
//	  "send_resolved": true                // optional, default true
//	}
//
// # Transport security
//
// The notifier always upgrades the connection with STARTTLS and verifies the
// server certificate against the system roots, or against the PEM
// certificates in ca_file when it is set. ca_file is how to reach a relay
// with a private or self-signed certificate, and how the tests run: they
// generate a self-signed certificate and pass it as ca_file. There is
// deliberately no switch that skips verification.
//
// A server that does not offer STARTTLS is rejected, unless
// "insecure_plaintext": true is set explicitly for a local relay (a
// localhost Postfix, a Mailpit in development). Mail then travels
// unencrypted, so that setting refuses credentials and ca_file.
//
// Implicit TLS on port 465 is not supported; use the submission port 587.
//
// # Authentication
//
// With a username, the notifier authenticates after STARTTLS with PLAIN, or
// with LOGIN when the server offers only that.
//
// # Message
//
// The subject is "[MiniObserv] " followed by notifiers.Summary, and the body
// is notifiers.Details, as UTF-8 quoted-printable text. An SMTP reply in the
// 4xx range and network errors are reported as retryable, 5xx replies and
// certificate errors are not. Recipients are all sent in one transaction: if
// the server rejects one of them, nothing is sent.
package email
