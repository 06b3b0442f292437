package telemetry

import (
	"strings"
)

// maxScanBytes bounds how much of a statement summarizeSQL reads, so a huge
// generated statement costs no more than a small one.
const maxScanBytes = 4096

// summarizeSQL returns the operation of a statement ("SELECT", "INSERT",
// "BEGIN", ...) and, for SELECT, INSERT, UPDATE, DELETE and COPY, the first
// table it names, as written without quotes. Either may be empty. It is a
// cheap lexical scan, not a parser: for a SELECT it takes the first FROM
// outside parentheses, and it leaves out the table of a statement that
// starts with WITH.
func summarizeSQL(sql string) (operation, table string) {
	if len(sql) > maxScanBytes {
		sql = sql[:maxScanBytes]
	}
	lx := lexer{src: sql}

	first := lx.next()
	if first.kind != tokenWord {
		return "", ""
	}
	operation = strings.ToUpper(first.text)

	switch operation {
	case "INSERT":
		table = lx.tableAfter("INTO")
	case "DELETE":
		table = lx.tableAfter("FROM")
	case "UPDATE":
		table = lx.tableAfter("")
	case "COPY":
		table = lx.tableAfter("")
	case "SELECT":
		table = lx.selectTable()
	}
	return operation, table
}

type tokenKind int

const (
	tokenEnd tokenKind = iota
	tokenWord
	tokenOpen
	tokenClose
	tokenOther
)

type token struct {
	kind tokenKind
	text string
}

// lexer splits SQL into words (keywords and identifiers, with a quoted
// identifier returned unquoted), parentheses and other characters. It skips
// whitespace, comments and string literals.
type lexer struct {
	src string
	pos int
}

func (l *lexer) next() token {
	l.skipSpaceAndComments()
	if l.pos >= len(l.src) {
		return token{kind: tokenEnd}
	}

	c := l.src[l.pos]
	switch {
	case c == '(':
		l.pos++
		return token{kind: tokenOpen}
	case c == ')':
		l.pos++
		return token{kind: tokenClose}
	case c == '\'':
		l.skipQuoted('\'')
		return token{kind: tokenOther}
	case c == '"':
		start := l.pos + 1
		l.skipQuoted('"')
		return token{kind: tokenWord, text: l.src[start:max(start, l.pos-1)]}
	case isWordStart(c):
		start := l.pos
		for l.pos < len(l.src) && isWordByte(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tokenWord, text: l.src[start:l.pos]}
	default:
		l.pos++
		return token{kind: tokenOther, text: string(c)}
	}
}

func (l *lexer) skipSpaceAndComments() {
	for l.pos < len(l.src) {
		rest := l.src[l.pos:]
		switch {
		case rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r':
			l.pos++
		case strings.HasPrefix(rest, "--"):
			end := strings.IndexByte(rest, '\n')
			if end < 0 {
				l.pos = len(l.src)
				return
			}
			l.pos += end + 1
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				l.pos = len(l.src)
				return
			}
			l.pos += end + 4
		default:
			return
		}
	}
}

// skipQuoted moves past a quoted string or identifier that starts at pos;
// a doubled quote inside it stands for the quote itself.
func (l *lexer) skipQuoted(quote byte) {
	l.pos++
	for l.pos < len(l.src) {
		if l.src[l.pos] != quote {
			l.pos++
			continue
		}
		if l.pos+1 < len(l.src) && l.src[l.pos+1] == quote {
			l.pos += 2
			continue
		}
		l.pos++
		return
	}
}

// tableAfter returns the table name that follows the keyword (or the next
// word when keyword is empty), skipping ONLY.
func (l *lexer) tableAfter(keyword string) string {
	if keyword != "" {
		t := l.next()
		if t.kind != tokenWord || !strings.EqualFold(t.text, keyword) {
			return ""
		}
	}
	t := l.next()
	if t.kind == tokenWord && strings.EqualFold(t.text, "ONLY") {
		t = l.next()
	}
	if t.kind != tokenWord {
		return ""
	}
	return l.qualified(t.text)
}

// qualified appends ".name" parts to a schema-qualified name.
func (l *lexer) qualified(name string) string {
	for {
		save := l.pos
		dot := l.next()
		if dot.kind != tokenOther || dot.text != "." {
			l.pos = save
			return name
		}
		part := l.next()
		if part.kind != tokenWord {
			l.pos = save
			return name
		}
		name += "." + part.text
	}
}

// selectTable returns the table after the first FROM outside parentheses,
// or "" when that FROM is followed by a subquery or there is none.
func (l *lexer) selectTable() string {
	depth := 0
	for {
		t := l.next()
		switch t.kind {
		case tokenEnd:
			return ""
		case tokenOpen:
			depth++
		case tokenClose:
			depth--
		case tokenWord:
			if depth == 0 && strings.EqualFold(t.text, "FROM") {
				return l.tableAfter("")
			}
		}
	}
}

func isWordStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c >= 0x80
}

func isWordByte(c byte) bool {
	return isWordStart(c) || ('0' <= c && c <= '9') || c == '$'
}
