package email_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, and the
// path of a PEM file with it, for ca_file.
type testCert struct {
	tls    tls.Certificate
	caFile string
}

func newTestCert(t *testing.T) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "miniobserv test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return testCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile: caFile}
}

// mail is one message the test server accepted.
type mail struct {
	from     string
	to       []string
	data     string
	tls      bool
	authUser string
}

// smtpServer speaks enough SMTP (RFC 5321) to accept messages: EHLO,
// STARTTLS, AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT.
type smtpServer struct {
	addr string
	// cert enables STARTTLS. With nil, the server does not offer it.
	cert *tls.Certificate
	// authMechanisms are offered after STARTTLS, such as "PLAIN LOGIN".
	authMechanisms string
	user, password string
	// rcptReply, when set, replaces the 250 reply to every RCPT TO.
	rcptReply string
	// silent accepts connections but never sends the greeting.
	silent bool

	mails chan mail
	conns chan struct{}
	ln    net.Listener
	wg    sync.WaitGroup
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.mails = make(chan mail, 8)
	s.conns = make(chan struct{}, 64)

	done := make(chan struct{})
	s.wg.Add(1)
	go s.accept(done)
	t.Cleanup(func() {
		close(done)
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

func (s *smtpServer) port() string { _, p, _ := net.SplitHostPort(s.addr); return p }

func (s *smtpServer) accept(done chan struct{}) {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.conns <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			if s.silent {
				<-done
				return
			}
			_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
			s.serve(conn)
		}()
	}
}

// session is the state of one SMTP connection.
type session struct {
	conn     net.Conn
	text     *textproto.Conn
	tls      bool
	authUser string
	current  mail
}

func (s *smtpServer) serve(conn net.Conn) {
	ss := &session{conn: conn, text: textproto.NewConn(conn)}
	_ = ss.text.PrintfLine("220 127.0.0.1 ESMTP test")

	for {
		line, err := ss.text.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !s.handle(ss, strings.ToUpper(verb), arg) {
			return
		}
	}
}

// handle replies to one command and reports whether the session goes on.
func (s *smtpServer) handle(ss *session, verb, arg string) bool {
	switch verb {
	case "EHLO", "HELO":
		s.ehlo(ss)
	case "STARTTLS":
		return s.startTLS(ss)
	case "AUTH":
		s.auth(ss, arg)
	case "MAIL":
		ss.current = mail{from: trimPath(arg, "FROM:"), tls: ss.tls, authUser: ss.authUser}
		_ = ss.text.PrintfLine("250 2.1.0 ok")
	case "RCPT":
		if s.rcptReply != "" {
			_ = ss.text.PrintfLine("%s", s.rcptReply)
			return true
		}
		ss.current.to = append(ss.current.to, trimPath(arg, "TO:"))
		_ = ss.text.PrintfLine("250 2.1.5 ok")
	case "DATA":
		_ = ss.text.PrintfLine("354 end with <CRLF>.<CRLF>")
		data, err := ss.text.ReadDotBytes()
		if err != nil {
			return false
		}
		ss.current.data = string(data)
		s.mails <- ss.current
		_ = ss.text.PrintfLine("250 2.0.0 queued")
	case "RSET", "NOOP":
		_ = ss.text.PrintfLine("250 2.0.0 ok")
	case "QUIT":
		_ = ss.text.PrintfLine("221 2.0.0 bye")
		return false
	default:
		_ = ss.text.PrintfLine("502 5.5.2 command not implemented")
	}
	return true
}

func (s *smtpServer) ehlo(ss *session) {
	lines := []string{"127.0.0.1 greets you"}
	if s.cert != nil && !ss.tls {
		lines = append(lines, "STARTTLS")
	}
	if s.authMechanisms != "" && (ss.tls || s.cert == nil) {
		lines = append(lines, "AUTH "+s.authMechanisms)
	}
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		_ = ss.text.PrintfLine("250%s%s", sep, l)
	}
}

func (s *smtpServer) startTLS(ss *session) bool {
	if s.cert == nil || ss.tls {
		_ = ss.text.PrintfLine("502 5.5.1 STARTTLS not available")
		return true
	}
	_ = ss.text.PrintfLine("220 2.0.0 ready to start TLS")

	tlsConn := tls.Server(ss.conn, &tls.Config{Certificates: []tls.Certificate{*s.cert}, MinVersion: tls.VersionTLS12})
	if err := tlsConn.Handshake(); err != nil {
		return false
	}
	ss.conn, ss.text, ss.tls = tlsConn, textproto.NewConn(tlsConn), true
	return true
}

func (s *smtpServer) auth(ss *session, arg string) {
	mechanism, initial, _ := strings.Cut(arg, " ")
	var user, password string

	switch strings.ToUpper(mechanism) {
	case "PLAIN":
		decoded, _ := base64.StdEncoding.DecodeString(initial)
		parts := strings.Split(string(decoded), "\x00")
		if len(parts) == 3 {
			user, password = parts[1], parts[2]
		}
	case "LOGIN":
		user = s.prompt(ss, "Username:")
		password = s.prompt(ss, "Password:")
	default:
		_ = ss.text.PrintfLine("504 5.5.4 mechanism not supported")
		return
	}

	if user != s.user || password != s.password {
		_ = ss.text.PrintfLine("535 5.7.8 authentication credentials invalid")
		return
	}
	ss.authUser = user
	_ = ss.text.PrintfLine("235 2.7.0 authentication successful")
}

func (s *smtpServer) prompt(ss *session, prompt string) string {
	_ = ss.text.PrintfLine("334 %s", base64.StdEncoding.EncodeToString([]byte(prompt)))
	line, err := ss.text.ReadLine()
	if err != nil {
		return ""
	}
	decoded, _ := base64.StdEncoding.DecodeString(line)
	return string(decoded)
}

// trimPath turns "FROM:<a@b> BODY=8BITMIME" into "a@b".
func trimPath(arg, prefix string) string {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(prefix) && strings.EqualFold(arg[:len(prefix)], prefix) {
		arg = arg[len(prefix):]
	}
	path, _, _ := strings.Cut(strings.TrimSpace(arg), " ")
	return strings.Trim(path, "<>")
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}
