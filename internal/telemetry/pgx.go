package telemetry

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// maxQueryTextBytes bounds the db.query.text attribute. Statements are
// parameterised, so the text carries no values, but a generated multi-row
// INSERT can still run to megabytes.
const maxQueryTextBytes = 2048

// PgxTracer creates a client span for every query, batch and COPY that pgx
// runs, named and attributed after the OpenTelemetry database conventions:
// "INSERT metrics" with db.system.name=postgresql, db.namespace,
// db.operation.name, db.collection.name, db.query.text (cut to 2 KiB),
// server.address and server.port; on failure the span has error status,
// error.type and db.response.status_code (the SQLSTATE). Query arguments
// are never recorded.
//
// Set it as pgx.ConnConfig.Tracer (pgxpool.Config.ConnConfig.Tracer for a
// pool). It implements pgx.QueryTracer, pgx.BatchTracer and
// pgx.CopyFromTracer.
type PgxTracer struct {
	tracer trace.Tracer
}

var (
	_ pgx.QueryTracer    = (*PgxTracer)(nil)
	_ pgx.BatchTracer    = (*PgxTracer)(nil)
	_ pgx.CopyFromTracer = (*PgxTracer)(nil)
)

// NewPgxTracer returns a tracer whose spans come from tp.
func NewPgxTracer(tp trace.TracerProvider) *PgxTracer {
	return &PgxTracer{tracer: tp.Tracer(ScopeName)}
}

// PgxTracer returns a pgx tracer for this process, or nil when traces are
// not exported, so pgx skips tracing altogether. Assign the result to
// pgx.ConnConfig.Tracer as it is; wrap only a non-nil result in a
// multitracer.
func (t *Telemetry) PgxTracer() pgx.QueryTracer {
	if !t.TracesEnabled() {
		return nil
	}
	return NewPgxTracer(t.tracerProvider)
}

// start opens a client span. The span name and the attributes that need
// the statement parsed are computed only for a sampled span, so an
// unsampled query pays for little more than the sampling decision.
func (pt *PgxTracer) start(ctx context.Context, conn *pgx.Conn, describe func(trace.Span)) context.Context {
	ctx, span := pt.tracer.Start(ctx, "postgresql",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNamePostgreSQL))
	if !span.IsRecording() {
		return ctx
	}

	if conn != nil {
		cfg := conn.Config()
		span.SetAttributes(
			semconv.DBNamespace(cfg.Database),
			semconv.ServerAddress(cfg.Host),
			semconv.ServerPort(int(cfg.Port)))
	}
	describe(span)
	return ctx
}

// describeStatement names span after sql and sets its statement attributes.
func describeStatement(span trace.Span, sql string) {
	operation, table := summarizeSQL(sql)
	span.SetName(spanName(operation, table))

	attrs := []attribute.KeyValue{semconv.DBQueryText(truncate(sql, maxQueryTextBytes))}
	if operation != "" {
		attrs = append(attrs, semconv.DBOperationName(operation))
	}
	if table != "" {
		attrs = append(attrs, semconv.DBCollectionName(table))
	}
	span.SetAttributes(attrs...)
}

// spanName follows the conventions: "{operation} {table}", or the operation
// alone, or the database system when the statement could not be read.
func spanName(operation, table string) string {
	switch {
	case operation != "" && table != "":
		return operation + " " + table
	case operation != "":
		return operation
	default:
		return "postgresql"
	}
}

// TraceQueryStart implements pgx.QueryTracer.
func (pt *PgxTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return pt.start(ctx, conn, func(span trace.Span) {
		describeStatement(span, data.SQL)
	})
}

// TraceQueryEnd implements pgx.QueryTracer.
func (pt *PgxTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if data.Err == nil && data.CommandTag.Select() {
		span.SetAttributes(semconv.DBResponseReturnedRows(int(data.CommandTag.RowsAffected())))
	}
	EndSpan(span, data.Err)
}

// TraceBatchStart implements pgx.BatchTracer. The batch is one span named
// "BATCH {operation} {table}" when every statement shares them, else
// "BATCH"; a failed statement adds an exception event to it.
func (pt *PgxTracer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	return pt.start(ctx, conn, func(span trace.Span) {
		describeBatch(span, data.Batch)
	})
}

func describeBatch(span trace.Span, batch *pgx.Batch) {
	if batch == nil || len(batch.QueuedQueries) == 0 {
		span.SetName("BATCH")
		return
	}

	queries := batch.QueuedQueries
	operation, table := summarizeSQL(queries[0].SQL)
	distinct := []string{queries[0].SQL}
	for _, q := range queries[1:] {
		op, tb := summarizeSQL(q.SQL)
		if op != operation || tb != table {
			operation, table = "", ""
		}
		if q.SQL != distinct[len(distinct)-1] {
			distinct = append(distinct, q.SQL)
		}
	}

	attrs := []attribute.KeyValue{
		semconv.DBOperationBatchSize(len(queries)),
		semconv.DBQueryText(truncate(strings.Join(distinct, "; "), maxQueryTextBytes)),
	}
	name := "BATCH"
	if operation != "" {
		name = "BATCH " + spanName(operation, table)
		attrs = append(attrs, semconv.DBOperationName("BATCH "+operation))
		if table != "" {
			attrs = append(attrs, semconv.DBCollectionName(table))
		}
	}
	span.SetName(name)
	span.SetAttributes(attrs...)
}

// TraceBatchQuery implements pgx.BatchTracer.
func (pt *PgxTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	if data.Err == nil {
		return
	}
	trace.SpanFromContext(ctx).RecordError(data.Err, trace.WithAttributes(semconv.DBQueryText(truncate(data.SQL, maxQueryTextBytes))))
}

// TraceBatchEnd implements pgx.BatchTracer.
func (pt *PgxTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	EndSpan(trace.SpanFromContext(ctx), data.Err)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (pt *PgxTracer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceCopyFromStartData) context.Context {
	return pt.start(ctx, conn, func(span trace.Span) {
		table := strings.Join(data.TableName, ".")
		span.SetName(spanName("COPY", table))
		span.SetAttributes(semconv.DBOperationName("COPY"), semconv.DBCollectionName(table))
	})
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (pt *PgxTracer) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceCopyFromEndData) {
	EndSpan(trace.SpanFromContext(ctx), data.Err)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
