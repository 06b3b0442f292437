package storage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/model"
)

const insertLogsUnnestSQL = `
INSERT INTO logs (time, host, path, level, message)
SELECT t, h, p, l, m FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(t, h, p, l, m)`

const insertLogsDedupSQL = `
WITH claim AS (` + claimBatchSQL + `)
INSERT INTO logs (time, host, path, level, message)
SELECT t, h, p, l, m FROM unnest($3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(t, h, p, l, m)
WHERE EXISTS (SELECT 1 FROM claim)`

// InsertLogs stores a validated log batch in one statement, all or nothing,
// with the same batch id deduplication as metrics.
func (s *Store) InsertLogs(ctx context.Context, b *model.LogBatch) (InsertResult, error) {
	n := len(b.Entries)
	times, hosts, paths, levels, msgs := make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range b.Entries {
		times[i], hosts[i], paths[i], levels[i], msgs[i] = e.Time, e.Host, e.Path, e.Level, e.Message
	}

	var err error
	var affected int64
	if b.BatchID == "" {
		tag, e := s.pool.Exec(ctx, insertLogsUnnestSQL, times, hosts, paths, levels, msgs)
		affected, err = tag.RowsAffected(), e
	} else {
		tag, e := s.pool.Exec(ctx, insertLogsDedupSQL, b.BatchID, kindLogs, times, hosts, paths, levels, msgs)
		affected, err = tag.RowsAffected(), e
	}
	if err != nil {
		return InsertResult{}, fmt.Errorf("insert logs: %w", classify(err))
	}
	return InsertResult{Inserted: int(affected), Duplicate: b.BatchID != "" && affected == 0}, nil
}

// LogQuery selects log entries, newest first.
type LogQuery struct {
	Host   string   // empty: every host
	Levels []string // empty: every level
	From   time.Time
	To     time.Time
	// Text keeps entries whose message contains it, case-insensitively and
	// literally (% and _ are not wildcards).
	Text   string
	Limit  int
	Cursor string // from a previous page's NextCursor
}

// LogRecord is a stored log entry.
type LogRecord struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Host    string    `json:"host"`
	Path    string    `json:"path"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// ErrBadCursor is returned for a cursor this server did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// cursor is the keyset position after the last entry of a page. Entries
// that arrive later are newer and sort before it, so pages stay stable.
type cursor struct {
	Time time.Time `json:"t"`
	ID   int64     `json:"i"`
}

func (c cursor) encode() string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Time.IsZero() {
		return c, ErrBadCursor
	}
	return c, nil
}

// EscapeLike makes s match literally inside a LIKE pattern that uses
// backslash as the escape character.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// QueryLogs returns one page of entries, newest first, and the cursor of
// the next page ("" on the last page).
func (s *Store) QueryLogs(ctx context.Context, q LogQuery) ([]LogRecord, string, error) {
	args := []any{q.From, q.To}
	where := []string{"time >= $1", "time < $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}

	if q.Host != "" {
		add("host = $%d", q.Host)
	}
	if len(q.Levels) > 0 {
		add("level = ANY($%d)", q.Levels)
	}
	if q.Text != "" {
		add(`message ILIKE '%%' || $%d || '%%' ESCAPE '\'`, EscapeLike(q.Text))
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, c.Time, c.ID)
		where = append(where, fmt.Sprintf("(time, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, q.Limit+1)

	sql := fmt.Sprintf(`SELECT id, time, host, path, level, message FROM logs WHERE %s
ORDER BY time DESC, id DESC LIMIT $%d`, strings.Join(where, " AND "), len(args))
	// Every search is planned with its own values. After five runs of one
	// prepared statement, PostgreSQL may switch to a cached generic plan.
	// That plan does not know the search text, so it never uses the
	// trigram index, and a search for a rare word reads every row of the
	// time range.
	rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
	if err != nil {
		return nil, "", fmt.Errorf("query logs: %w", classify(err))
	}
	recs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[LogRecord])
	if err != nil {
		return nil, "", fmt.Errorf("query logs: %w", classify(err))
	}

	next := ""
	if len(recs) > q.Limit {
		recs = recs[:q.Limit]
		last := recs[len(recs)-1]
		next = cursor{Time: last.Time, ID: last.ID}.encode()
	}
	for i := range recs {
		recs[i].Time = recs[i].Time.UTC()
	}
	if recs == nil {
		recs = []LogRecord{}
	}
	return recs, next, nil
}
