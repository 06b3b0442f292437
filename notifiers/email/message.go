package email

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
)

// SubjectPrefix starts every subject, so that mail rules can sort alerts.
const SubjectPrefix = "[MiniObserv] "

// maxSubjectLen bounds the subject, in characters, well under the 998-byte
// line limit of RFC 5322 even after encoding.
const maxSubjectLen = 200

// Subject returns the subject line for ev, before MIME encoding.
func Subject(ev model.Event) string {
	subject := SubjectPrefix + singleLine(notifiers.Summary(ev))
	if utf8.RuneCountInString(subject) > maxSubjectLen {
		subject = string([]rune(subject)[:maxSubjectLen-1]) + "…"
	}
	return subject
}

// Body returns the plain-text body for ev, before transfer encoding.
func Body(ev model.Event) string {
	return notifiers.Details(ev)
}

// message renders the complete mail: headers, a blank line, and the body as
// quoted-printable UTF-8 with CRLF line ends.
func (n *Notifier) message(ev model.Event, now time.Time) ([]byte, error) {
	var b bytes.Buffer

	recipients := make([]string, len(n.to))
	for i, addr := range n.to {
		recipients[i] = addr.String()
	}

	id, err := messageID(n.from.Address)
	if err != nil {
		return nil, err
	}

	writeHeader(&b, "From", n.from.String())
	writeHeader(&b, "To", strings.Join(recipients, ", "))
	writeHeader(&b, "Subject", encodeSubject(Subject(ev)))
	writeHeader(&b, "Date", now.Format(time.RFC1123Z))
	writeHeader(&b, "Message-ID", id)
	writeHeader(&b, "MIME-Version", "1.0")
	writeHeader(&b, "Content-Type", "text/plain; charset=utf-8")
	writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
	writeHeader(&b, "X-MiniObserv-Event", singleLine(ev.Event))
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(Body(ev))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeHeader(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

// encodeSubject applies RFC 2047 encoding when the subject is not plain
// ASCII, and folds the encoded words onto continuation lines so that no line
// grows past the limit.
func encodeSubject(subject string) string {
	encoded := mime.QEncoding.Encode("utf-8", subject)
	return strings.ReplaceAll(encoded, "?= =?", "?=\r\n =?")
}

// messageID returns a unique Message-ID in the sender's domain.
func messageID(from string) (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}

	domain := "miniobserv.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	return "<" + hex.EncodeToString(random) + "@" + domain + ">", nil
}

// singleLine replaces control characters, line breaks among them, with
// spaces, so that label values cannot inject headers.
func singleLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
