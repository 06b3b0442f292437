package telemetry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// PoolStat is a snapshot of a database connection pool. The counts and
// durations marked cumulative only grow over the life of the pool.
type PoolStat struct {
	Acquired int64 // connections in use
	Idle     int64 // connections open and free
	Total    int64 // open connections plus those being opened
	Max      int64 // the pool's size limit

	WaitCount        int64         // cumulative acquires that had to wait because no connection was free
	WaitDuration     time.Duration // cumulative time those acquires waited
	CanceledAcquires int64         // cumulative acquires abandoned because their context ended
}

// PgxPoolStat returns a PoolStat source for pool, for RegisterPoolMetrics.
func PgxPoolStat(pool *pgxpool.Pool) func() PoolStat {
	return func() PoolStat {
		s := pool.Stat()
		return PoolStat{
			Acquired:         int64(s.AcquiredConns()),
			Idle:             int64(s.IdleConns()),
			Total:            int64(s.TotalConns()),
			Max:              int64(s.MaxConns()),
			WaitCount:        s.EmptyAcquireCount(),
			WaitDuration:     s.EmptyAcquireWaitTime(),
			CanceledAcquires: s.CanceledAcquireCount(),
		}
	}
}

// poolInstruments are the observable instruments of one pool. The counts
// and the limit follow the OpenTelemetry database client conventions
// (db.client.connection.*). The total and the cumulative waits have no
// convention name, so they use MiniObserv's own.
type poolInstruments struct {
	count        metric.Int64ObservableUpDownCounter
	max          metric.Int64ObservableUpDownCounter
	total        metric.Int64ObservableUpDownCounter
	waitCount    metric.Int64ObservableCounter
	waitDuration metric.Float64ObservableCounter
	canceled     metric.Int64ObservableCounter
}

func newPoolInstruments(meter metric.Meter) (poolInstruments, error) {
	var (
		p    poolInstruments
		errs []error
		err  error
	)
	check := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("create instrument %s: %w", name, err))
		}
	}

	p.count, err = meter.Int64ObservableUpDownCounter("db.client.connection.count", metric.WithUnit("{connection}"),
		metric.WithDescription("Connections in the state given by db.client.connection.state (used or idle)."))
	check("db.client.connection.count", err)
	p.max, err = meter.Int64ObservableUpDownCounter("db.client.connection.max", metric.WithUnit("{connection}"),
		metric.WithDescription("The maximum number of open connections allowed."))
	check("db.client.connection.max", err)
	p.total, err = meter.Int64ObservableUpDownCounter("miniobserv.db.pool.connections.total", metric.WithUnit("{connection}"),
		metric.WithDescription("Open connections plus connections being opened."))
	check("miniobserv.db.pool.connections.total", err)
	p.waitCount, err = meter.Int64ObservableCounter("miniobserv.db.pool.acquire.waits", metric.WithUnit("{acquire}"),
		metric.WithDescription("Acquires that waited because no connection was free."))
	check("miniobserv.db.pool.acquire.waits", err)
	p.waitDuration, err = meter.Float64ObservableCounter("miniobserv.db.pool.acquire.wait_time", metric.WithUnit("s"),
		metric.WithDescription("Total time acquires waited for a free connection."))
	check("miniobserv.db.pool.acquire.wait_time", err)
	p.canceled, err = meter.Int64ObservableCounter("miniobserv.db.pool.acquire.canceled", metric.WithUnit("{acquire}"),
		metric.WithDescription("Acquires abandoned because their context ended, usually a timeout."))
	check("miniobserv.db.pool.acquire.canceled", err)

	if len(errs) > 0 {
		return poolInstruments{}, errors.Join(errs...)
	}
	return p, nil
}

// RegisterPoolMetrics reports stat() as observable pool metrics each time
// metrics are collected. poolName is the db.client.connection.pool.name
// attribute; the conventions suggest "server.address:server.port/db.namespace"
// when the pool has no name of its own. stat runs on the SDK's export
// goroutine and must be safe for concurrent use. Call Unregister on the
// result when the pool closes.
func RegisterPoolMetrics(meter metric.Meter, poolName string, stat func() PoolStat) (metric.Registration, error) {
	inst, err := newPoolInstruments(meter)
	if err != nil {
		return nil, err
	}

	pool := semconv.DBClientConnectionPoolName(poolName)
	poolOnly := metric.WithAttributeSet(attribute.NewSet(pool))
	used := metric.WithAttributeSet(attribute.NewSet(pool, semconv.DBClientConnectionStateUsed))
	idle := metric.WithAttributeSet(attribute.NewSet(pool, semconv.DBClientConnectionStateIdle))

	reg, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := stat()
		o.ObserveInt64(inst.count, s.Acquired, used)
		o.ObserveInt64(inst.count, s.Idle, idle)
		o.ObserveInt64(inst.max, s.Max, poolOnly)
		o.ObserveInt64(inst.total, s.Total, poolOnly)
		o.ObserveInt64(inst.waitCount, s.WaitCount, poolOnly)
		o.ObserveFloat64(inst.waitDuration, s.WaitDuration.Seconds(), poolOnly)
		o.ObserveInt64(inst.canceled, s.CanceledAcquires, poolOnly)
		return nil
	}, inst.count, inst.max, inst.total, inst.waitCount, inst.waitDuration, inst.canceled)
	if err != nil {
		return nil, fmt.Errorf("register pool metrics callback: %w", err)
	}
	return reg, nil
}
