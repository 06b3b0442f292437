package email

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/kamerrezz/theminidog/notifiers"
)

// sendError is a failed SMTP step. Its Retryable method lets the Dispatcher
// decide whether a retry may help.
type sendError struct {
	step string
	err  error
}

func (e *sendError) Error() string { return "email: " + e.step + ": " + e.err.Error() }

func (e *sendError) Unwrap() error { return e.err }

// Retryable is true for 4xx replies, which SMTP defines as transient, and
// for network errors. It is false for 5xx replies, certificate errors, a
// missing server feature and an ended context.
func (e *sendError) Retryable() bool {
	var reply *textproto.Error
	if errors.As(e.err, &reply) {
		return reply.Code >= 400 && reply.Code < 500
	}
	if errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded) {
		return false
	}
	if notifiers.IsCertificateError(e.err) {
		return false
	}

	var netErr net.Error
	return errors.As(e.err, &netErr) || errors.Is(e.err, io.EOF) || errors.Is(e.err, io.ErrUnexpectedEOF)
}

// errPermanent marks failures that a retry cannot fix, such as a server
// without STARTTLS.
var errPermanent = errors.New("permanent failure")

// send runs one SMTP transaction for msg. The context's deadline becomes the
// connection's deadline, and cancelling the context aborts pending I/O,
// because net/smtp itself takes no context.
func (n *Notifier) send(ctx context.Context, msg []byte) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", n.addr)
	if err != nil {
		return n.fail(ctx, "connect to "+n.addr, err)
	}
	defer conn.Close()

	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	client, err := smtp.NewClient(conn, n.host)
	if err != nil {
		return n.fail(ctx, "read greeting", err)
	}
	defer client.Close()

	if err := n.secure(ctx, client); err != nil {
		return err
	}
	if err := n.transmit(ctx, client, msg); err != nil {
		return err
	}

	// The server accepted the message when DATA ended. A failed QUIT must
	// not cause a retry that would deliver it twice.
	_ = client.Quit()
	return nil
}

// secure upgrades the connection with STARTTLS, unless insecure_plaintext is
// set, and authenticates when credentials are configured.
func (n *Notifier) secure(ctx context.Context, client *smtp.Client) error {
	if n.tlsConfig != nil {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return &sendError{step: "starttls", err: fmt.Errorf("%w: %s does not offer STARTTLS: use a server that does, or set insecure_plaintext for a local relay", errPermanent, n.addr)}
		}
		if err := client.StartTLS(n.tlsConfig); err != nil {
			return n.fail(ctx, "starttls", err)
		}
	}

	if n.username == "" {
		return nil
	}
	auth, err := n.chooseAuth(client)
	if err != nil {
		return &sendError{step: "auth", err: err}
	}
	if err := client.Auth(auth); err != nil {
		return n.fail(ctx, "auth", err)
	}
	return nil
}

// chooseAuth picks PLAIN, or LOGIN when the server offers only that.
func (n *Notifier) chooseAuth(client *smtp.Client) (smtp.Auth, error) {
	ok, params := client.Extension("AUTH")
	if !ok {
		return nil, fmt.Errorf("%w: %s offers no authentication: remove username and password, or check the port", errPermanent, n.addr)
	}

	mechanisms := strings.Fields(strings.ToUpper(params))
	switch {
	case slices.Contains(mechanisms, "PLAIN"):
		return smtp.PlainAuth("", n.username, n.password, n.host), nil
	case slices.Contains(mechanisms, "LOGIN"):
		return &loginAuth{username: n.username, password: n.password}, nil
	default:
		return nil, fmt.Errorf("%w: %s offers only %s, and this notifier speaks PLAIN and LOGIN", errPermanent, n.addr, params)
	}
}

// transmit sends the envelope and the message.
func (n *Notifier) transmit(ctx context.Context, client *smtp.Client, msg []byte) error {
	if err := client.Mail(n.from.Address); err != nil {
		return n.fail(ctx, "mail from", err)
	}
	for _, rcpt := range n.to {
		if err := client.Rcpt(rcpt.Address); err != nil {
			return n.fail(ctx, "rcpt to "+rcpt.Address, err)
		}
	}

	w, err := client.Data()
	if err != nil {
		return n.fail(ctx, "data", err)
	}
	if _, err := w.Write(msg); err != nil {
		return n.fail(ctx, "write message", err)
	}
	if err := w.Close(); err != nil {
		return n.fail(ctx, "end of message", err)
	}
	return nil
}

// fail wraps err from step. When the context has ended, the I/O error is
// only a symptom, so the context's error is wrapped for errors.Is.
func (n *Notifier) fail(ctx context.Context, step string, err error) error {
	if ctxErr := contextError(ctx); ctxErr != nil {
		return &sendError{step: step, err: fmt.Errorf("%w (%v)", ctxErr, err)}
	}
	return &sendError{step: step, err: err}
}

// contextError is ctx.Err(), or DeadlineExceeded once the deadline has
// passed: the connection deadline, equal to the context's, can fire a moment
// before the context's own timer marks it done.
func contextError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// loginAuth is the LOGIN mechanism, which net/smtp lacks and some
// submission servers offer instead of PLAIN. Like smtp.PlainAuth it refuses
// to send credentials over a connection without TLS.
type loginAuth struct {
	username, password string
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, fmt.Errorf("%w: refusing LOGIN authentication without TLS", errPermanent)
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}

	prompt := strings.ToLower(strings.TrimSpace(string(challenge)))
	switch {
	case strings.HasPrefix(prompt, "username"):
		return []byte(a.username), nil
	case strings.HasPrefix(prompt, "password"):
		return []byte(a.password), nil
	default:
		return nil, fmt.Errorf("%w: unexpected LOGIN prompt %q", errPermanent, prompt)
	}
}
