package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kamerrezz/theminidog/internal/pgtest"
)

func TestNewDatabaseIsEmptyAndWritable(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)

	if _, err := conn.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (41), (1)"); err != nil {
		t.Fatalf("write: %v", err)
	}
	var sum int
	if err := conn.QueryRow(ctx, "SELECT sum(v) FROM t").Scan(&sum); err != nil {
		t.Fatalf("read: %v", err)
	}
	if sum != 42 {
		t.Fatalf("sum = %d, want 42", sum)
	}
}
