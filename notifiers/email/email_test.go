package email_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	"github.com/kamerrezz/theminidog/notifiers/email"
)

func ptr[T any](v T) *T { return &v }

var fired = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func firing() model.Event {
	return model.Event{
		Event: model.EventFiring, RuleID: ptr("cpu-high"), IncidentID: "inc-1", Host: "host-a",
		Name: model.CPUUsagePct, Labels: map[string]string{"core": "total"},
		Value: ptr(95.0), Threshold: ptr(90.0), FiredAt: &fired,
	}
}

func build(t *testing.T, configJSON string) notifiers.Notifier {
	t.Helper()
	list, err := notifiers.Build("[" + configJSON + "]")
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return list[0]
}

// parsed is a received mail split into decoded headers and body.
type parsed struct {
	header netmail.Header
	body   string
}

func parse(t *testing.T, data string) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("received mail does not parse: %v\n%s", err, data)
	}
	if enc := msg.Header.Get("Content-Transfer-Encoding"); enc != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding = %q, want quoted-printable", enc)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body is not quoted-printable: %v", err)
	}
	return parsed{header: msg.Header, body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

func decodedSubject(t *testing.T, p parsed) string {
	t.Helper()
	subject, err := new(mime.WordDecoder).DecodeHeader(p.header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject does not decode: %v", err)
	}
	return subject
}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	cert := newTestCert(t)
	srv := startSMTP(t, &smtpServer{cert: &cert.tls, authMechanisms: "PLAIN LOGIN", user: "alerts", password: "pw"})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"MiniObserv <alerts@example.com>",
		"to":["ops@example.com","On Call <oncall@example.com>"],"username":"alerts","password":"pw","ca_file":%q}`,
		srv.host(), srv.port(), cert.caFile))

	if err := n.Notify(context.Background(), firing()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	m := <-srv.mails

	if !m.tls || m.authUser != "alerts" {
		t.Errorf("session tls=%v user=%q, want STARTTLS and user alerts", m.tls, m.authUser)
	}
	if m.from != "alerts@example.com" {
		t.Errorf("MAIL FROM = %q, want alerts@example.com", m.from)
	}
	if strings.Join(m.to, ",") != "ops@example.com,oncall@example.com" {
		t.Errorf("RCPT TO = %v, want both recipients", m.to)
	}

	p := parse(t, m.data)
	if got, want := decodedSubject(t, p), "[MiniObserv] [FIRING] cpu.usage_pct > 90 on host-a (core=total): 95.0"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if got := p.header.Get("From"); got != `"MiniObserv" <alerts@example.com>` {
		t.Errorf("From = %q", got)
	}
	if got := p.header.Get("To"); got != `<ops@example.com>, "On Call" <oncall@example.com>` {
		t.Errorf("To = %q", got)
	}
	if got := p.header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if _, err := p.header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	if id := p.header.Get("Message-Id"); !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q, want one in the sender's domain", id)
	}

	wantBody := "[FIRING] cpu.usage_pct > 90 on host-a (core=total): 95.0\n" +
		"\n" +
		"Event:       firing\n" +
		"Rule:        cpu-high\n" +
		"Incident:    inc-1\n" +
		"Host:        host-a\n" +
		"Metric:      cpu.usage_pct\n" +
		"Labels:      core=total\n" +
		"Value:       95.0\n" +
		"Threshold:   90\n" +
		"Fired at:    2025-01-02T03:04:05Z\n"
	if p.body != wantBody {
		t.Errorf("body =\n%s\nwant\n%s", p.body, wantBody)
	}
}

func TestEmailLoginAuth(t *testing.T) {
	cert := newTestCert(t)
	srv := startSMTP(t, &smtpServer{cert: &cert.tls, authMechanisms: "LOGIN", user: "alerts", password: "pw"})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],
		"username":"alerts","password":"pw","ca_file":%q}`, srv.host(), srv.port(), cert.caFile))

	if err := n.Notify(context.Background(), firing()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if m := <-srv.mails; m.authUser != "alerts" {
		t.Errorf("authenticated user = %q, want alerts", m.authUser)
	}
}

func TestEmailWrongPassword(t *testing.T) {
	cert := newTestCert(t)
	srv := startSMTP(t, &smtpServer{cert: &cert.tls, authMechanisms: "PLAIN", user: "alerts", password: "pw"})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],
		"username":"alerts","password":"wrong","ca_file":%q}`, srv.host(), srv.port(), cert.caFile))

	err := n.Notify(context.Background(), firing())

	if err == nil || !strings.Contains(err.Error(), "535") {
		t.Fatalf("Notify error = %v, want the server's 535 reply", err)
	}
	if notifiers.Retryable(err) {
		t.Error("rejected credentials were reported as retryable")
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q contains the password", err)
	}
}

func TestEmailRequiresSTARTTLS(t *testing.T) {
	srv := startSMTP(t, &smtpServer{})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"]}`,
		srv.host(), srv.port()))

	err := n.Notify(context.Background(), firing())

	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("Notify error = %v, want a STARTTLS refusal", err)
	}
	if notifiers.Retryable(err) {
		t.Error("a server without STARTTLS was reported as retryable")
	}
	if len(srv.mails) != 0 {
		t.Error("a mail was sent in plain text")
	}
}

func TestEmailRejectsUnknownCertificate(t *testing.T) {
	serverCert, otherCert := newTestCert(t), newTestCert(t)
	srv := startSMTP(t, &smtpServer{cert: &serverCert.tls})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],"ca_file":%q}`,
		srv.host(), srv.port(), otherCert.caFile))

	err := n.Notify(context.Background(), firing())

	if !notifiers.IsCertificateError(err) {
		t.Fatalf("Notify error = %v, want a certificate verification error", err)
	}
	if notifiers.Retryable(err) {
		t.Error("a certificate error was reported as retryable")
	}
}

func TestEmailInsecurePlaintext(t *testing.T) {
	srv := startSMTP(t, &smtpServer{})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],
		"insecure_plaintext":true}`, srv.host(), srv.port()))

	if err := n.Notify(context.Background(), firing()); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if m := <-srv.mails; m.tls {
		t.Error("session used TLS, want the plain-text relay path")
	}
}

func TestEmailRecipientReplies(t *testing.T) {
	cases := []struct {
		reply     string
		retryable bool
	}{
		{"451 4.3.0 try again later", true},
		{"550 5.1.1 no such user", false},
	}
	cert := newTestCert(t)
	for _, tc := range cases {
		t.Run(tc.reply[:3], func(t *testing.T) {
			srv := startSMTP(t, &smtpServer{cert: &cert.tls, rcptReply: tc.reply})
			n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],"ca_file":%q}`,
				srv.host(), srv.port(), cert.caFile))

			err := n.Notify(context.Background(), firing())

			if err == nil || !strings.Contains(err.Error(), "rcpt to ops@example.com") {
				t.Fatalf("Notify error = %v, want the RCPT failure", err)
			}
			if got := notifiers.Retryable(err); got != tc.retryable {
				t.Errorf("Retryable = %v, want %v", got, tc.retryable)
			}
		})
	}
}

func TestEmailDeadline(t *testing.T) {
	srv := startSMTP(t, &smtpServer{silent: true})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],"insecure_plaintext":true}`,
		srv.host(), srv.port()))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	err := n.Notify(ctx, firing())

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify against a server that never greets = %v, want context.DeadlineExceeded", err)
	}
}

func TestEmailSendResolvedFalse(t *testing.T) {
	srv := startSMTP(t, &smtpServer{})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],
		"insecure_plaintext":true,"send_resolved":false}`, srv.host(), srv.port()))
	resolved := firing()
	resolved.Event = model.EventResolved

	if err := n.Notify(context.Background(), resolved); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if len(srv.conns) != 0 {
		t.Error("a skipped event opened an SMTP connection")
	}
}

func TestEmailHeaderInjection(t *testing.T) {
	srv := startSMTP(t, &smtpServer{})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],"insecure_plaintext":true}`,
		srv.host(), srv.port()))
	ev := firing()
	ev.Labels = map[string]string{"core": "total\r\nBcc: victim@example.com"}

	if err := n.Notify(context.Background(), ev); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	p := parse(t, (<-srv.mails).data)

	if bcc := p.header.Get("Bcc"); bcc != "" {
		t.Errorf("a label value injected the header Bcc: %s", bcc)
	}
	if got := decodedSubject(t, p); !strings.Contains(got, "(core=total  Bcc: victim@example.com)") {
		t.Errorf("Subject = %q, want the line break replaced by spaces", got)
	}
}

func TestEmailNonASCIISubject(t *testing.T) {
	srv := startSMTP(t, &smtpServer{})
	n := build(t, fmt.Sprintf(`{"type":"email","host":%q,"port":%s,"from":"alerts@example.com","to":["ops@example.com"],"insecure_plaintext":true}`,
		srv.host(), srv.port()))
	ev := model.Event{Event: model.EventHostDown, Host: "hôte-été-" + strings.Repeat("ü", 60)}

	if err := n.Notify(context.Background(), ev); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	m := <-srv.mails
	p := parse(t, m.data)

	if got, want := decodedSubject(t, p), email.Subject(ev); got != want {
		t.Errorf("Subject decodes to %q, want %q", got, want)
	}
	// The test server's ReadDotBytes has already turned CRLF into LF.
	for _, line := range strings.Split(m.data, "\n") {
		if len(line) > 998 {
			t.Errorf("a line is %d bytes, over the 998-byte limit: %.200q", len(line), line)
		}
	}
}

func TestEmailConfigErrors(t *testing.T) {
	valid := `"from":"alerts@example.com","to":["ops@example.com"]`
	cases := []struct {
		config string
		want   string
	}{
		{`{"type":"email",` + valid + `}`, "notifier 0 (email): host: missing"},
		{`{"type":"email","host":"smtp://mail.example.com",` + valid + `}`, "host: contains a scheme"},
		{`{"type":"email","host":"mail.example.com:587",` + valid + `}`, "host: contains a port"},
		{`{"type":"email","host":"mail.example.com","port":70000,` + valid + `}`, "port: 70000 is not a TCP port"},
		{`{"type":"email","host":"mail.example.com","port":465,` + valid + `}`, "port: 465 expects implicit TLS"},
		{`{"type":"email","host":"mail.example.com","port":"587",` + valid + `}`, "port: invalid value: expected a whole number"},
		{`{"type":"email","host":"mail.example.com","to":["ops@example.com"]}`, "from: missing"},
		{`{"type":"email","host":"mail.example.com","from":"not an address","to":["ops@example.com"]}`, "from: invalid address"},
		{`{"type":"email","host":"mail.example.com","from":"alerts@example.com"}`, "to: missing"},
		{`{"type":"email","host":"mail.example.com","from":"alerts@example.com","to":["ok@example.com","bad"]}`, "to[1]: invalid address"},
		{`{"type":"email","host":"mail.example.com","from":"alerts@example.com","to":"ops@example.com"}`, "to: invalid value: expected an array of strings"},
		{`{"type":"email","host":"mail.example.com",` + valid + `,"password":"pw"}`, "username: missing while password is set"},
		{`{"type":"email","host":"mail.example.com",` + valid + `,"username":"u"}`, "password: missing while username is set"},
		{`{"type":"email","host":"mail.example.com",` + valid + `,"username":"u","password":"p","insecure_plaintext":true}`, "insecure_plaintext: would send the username and password unencrypted"},
		{`{"type":"email","host":"mail.example.com",` + valid + `,"ca_file":"/x.pem","insecure_plaintext":true}`, "insecure_plaintext: leaves ca_file unused"},
		{`{"type":"email","host":"mail.example.com",` + valid + `,"ca_file":"/nonexistent/ca.pem"}`, "ca_file: cannot read it"},
		{`{"type":"email","host":"mail.example.com",` + valid + `,"tls_skip_verify":true}`, "tls_skip_verify: unknown field"},
	}
	for _, tc := range cases {
		_, err := notifiers.Build("[" + tc.config + "]")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Build(%s)\nerror = %v\nwant it to contain %q", tc.config, err, tc.want)
		}
	}
}

func TestEmailCAFileWithoutCertificates(t *testing.T) {
	path := t.TempDir() + "/empty.pem"
	if err := writeFile(path, "not a certificate\n"); err != nil {
		t.Fatal(err)
	}

	_, err := email.New(email.Config{Host: "mail.example.com", From: "a@example.com", To: []string{"b@example.com"}, CAFile: path})

	if err == nil || !strings.Contains(err.Error(), "ca_file: no PEM certificate found") {
		t.Errorf("New error = %v, want a ca_file error", err)
	}
}
