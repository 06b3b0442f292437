package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/kamerrezz/theminidog/agent/config"
	"github.com/kamerrezz/theminidog/agent/queue"
	"github.com/kamerrezz/theminidog/agent/sender"
	"github.com/kamerrezz/theminidog/collectors"
	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/model"
)

// Log batching defaults. 500 entries of a typical 200-byte line make a
// 100 KB request, and one second keeps log latency low.
const (
	DefaultLogBatchEntries = 500
	DefaultLogBatchWait    = time.Second
	// DefaultLogBatchBytes bounds a log batch by size, because one batch of
	// 500 maximum-length lines would be 32 MiB.
	DefaultLogBatchBytes = 512 << 10
)

// LogSource produces log entries, such as a tailer of log files. Run
// calls emit for every entry until ctx ends, and then returns. emit is safe
// for concurrent use and never blocks on the network. The agent sets Host,
// fills in a missing Time and maps an unknown Level to info.
type LogSource interface {
	Run(ctx context.Context, emit func(model.LogEntry)) error
}

// Agent collects metrics and ships them and log entries to the server.
type Agent struct {
	cfg        config.Config
	log        *slog.Logger
	now        func() time.Time
	collectors []*collectorRunner
	sender     *sender.Sender
	logSource  LogSource

	metricQueue *queue.Memory[model.MetricBatch]
	logQueue    *queue.Memory[model.LogBatch]
	batcher     *logBatcher
	metricPipe  *pipeline[model.MetricBatch]
	logPipe     *pipeline[model.LogBatch]

	tracer  trace.Tracer
	metrics *telemetry.AgentMetrics

	metricBatchesQueued atomic.Uint64
	logBatchesQueued    atomic.Uint64
	running             atomic.Bool
}

type options struct {
	tel           *telemetry.Telemetry
	logger        *slog.Logger
	logSource     LogSource
	senderOptions []sender.Option
	logEntries    int
	logWait       time.Duration
	logBytes      int
}

// Option configures an Agent.
type Option func(*options)

// WithLogger sets the agent's logger. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithTelemetry traces collection ticks and sends, propagates the trace
// context to the server, and records the agent's metrics through tel.
func WithTelemetry(tel *telemetry.Telemetry) Option {
	return func(o *options) {
		o.tel = tel
		o.senderOptions = append(o.senderOptions, sender.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
			return tel.HTTPTransport(rt)
		}))
	}
}

// WithLogSource ships the entries of src as log batches. Without it the
// agent sends metrics only.
func WithLogSource(src LogSource) Option {
	return func(o *options) { o.logSource = src }
}

// WithSenderOptions passes extra options to the sender, such as
// sender.WithTransportWrapper for trace propagation.
func WithSenderOptions(opts ...sender.Option) Option {
	return func(o *options) { o.senderOptions = append(o.senderOptions, opts...) }
}

// WithLogBatching sets when a log batch is sent: at maxEntries entries, at
// maxBytes of entry text, or maxWait after its first entry, whichever comes
// first. Zero values keep the defaults.
func WithLogBatching(maxEntries, maxBytes int, maxWait time.Duration) Option {
	return func(o *options) {
		if maxEntries > 0 {
			o.logEntries = maxEntries
		}
		if maxBytes > 0 {
			o.logBytes = maxBytes
		}
		if maxWait > 0 {
			o.logWait = maxWait
		}
	}
}

// New builds an agent from a configuration that passed Validate: it
// builds the selected collectors and prepares the sender and queues.
// Nothing runs until Run.
func New(cfg config.Config, opts ...Option) (*Agent, error) {
	o := options{logger: slog.Default(), logEntries: DefaultLogBatchEntries, logWait: DefaultLogBatchWait, logBytes: DefaultLogBatchBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.CollectInterval <= 0 {
		return nil, fmt.Errorf("new agent: collect interval %s is not positive", cfg.CollectInterval)
	}

	a := &Agent{cfg: cfg, log: o.logger, now: time.Now, logSource: o.logSource, tracer: o.tel.Tracer()}
	var err error
	if a.metrics, err = telemetry.NewAgentMetrics(o.tel.Meter()); err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}

	built, err := collectors.Build(cfg.Collectors, collectors.Config{
		RootPath:   cfg.HostRoot,
		DiskMounts: cfg.DiskMounts,
		NetIfaces:  cfg.NetIfaces,
		Logger:     o.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}
	for _, c := range built {
		a.collectors = append(a.collectors, &collectorRunner{name: c.Name, collector: c.Collector})
	}

	if a.sender, err = newSender(cfg, o); err != nil {
		return nil, err
	}
	a.buildPipelines(o)
	if err := a.observeQueues(); err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}
	return a, nil
}

func newSender(cfg config.Config, o options) (*sender.Sender, error) {
	rootCAs, err := cfg.RootCAs()
	if err != nil {
		return nil, fmt.Errorf("new agent: CA_FILE: %w", err)
	}

	senderOpts := append([]sender.Option{
		sender.WithToken(string(cfg.AgentToken), cfg.AgentHost),
		sender.WithLogger(o.logger),
		sender.WithRootCAs(rootCAs),
	}, o.senderOptions...)
	s, err := sender.New(sender.Config{
		ServerURL:    cfg.ServerURL,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.RetryMax,
	}, senderOpts...)
	if err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}
	return s, nil
}

func (a *Agent) buildPipelines(o options) {
	metricDrops := &dropReporter{log: a.log, kind: "metrics", now: a.now}
	a.metricQueue = queue.NewMemory(a.cfg.QueueSize, queue.WithOnDrop(func(b model.MetricBatch) {
		metricDrops.drop(len(b.Metrics))
		a.metrics.AddBatchesDropped(context.Background(), telemetry.BatchMetrics, telemetry.DropQueueFull, 1)
	}))
	logDrops := &dropReporter{log: a.log, kind: "logs", now: a.now}
	a.logQueue = queue.NewMemory(a.cfg.LogQueueSize, queue.WithOnDrop(func(b model.LogBatch) {
		logDrops.drop(len(b.Entries))
		a.metrics.AddBatchesDropped(context.Background(), telemetry.BatchLogs, telemetry.DropQueueFull, 1)
	}))

	a.batcher = newLogBatcher(a.cfg.AgentHost, o.logEntries, o.logBytes, o.logWait, a.cfg.LogMaxAge, a.now, a.pushLogs)

	a.metricPipe = &pipeline[model.MetricBatch]{
		kind: telemetry.BatchMetrics, queue: a.metricQueue, tracer: a.tracer, metrics: a.metrics, send: a.sender.SendMetrics, log: a.log, retryWait: a.cfg.RetryWaitMax,
		describe: func(b model.MetricBatch) (string, int) { return b.BatchID, len(b.Metrics) },
	}
	a.logPipe = &pipeline[model.LogBatch]{
		kind: telemetry.BatchLogs, queue: a.logQueue, tracer: a.tracer, metrics: a.metrics, send: a.sender.SendLogs, log: a.log, retryWait: a.cfg.RetryWaitMax,
		describe: func(b model.LogBatch) (string, int) { return b.BatchID, len(b.Entries) },
	}
}

func (a *Agent) pushLogs(b model.LogBatch) {
	if a.logQueue.Push(b) {
		a.logBatchesQueued.Add(1)
		a.metrics.AddBatchesQueued(context.Background(), telemetry.BatchLogs, 1)
	}
}

// observeQueues reports both queue lengths as gauges.
func (a *Agent) observeQueues() error {
	if _, err := a.metrics.ObserveQueueLength(telemetry.BatchMetrics, a.metricQueue.Len); err != nil {
		return err
	}
	_, err := a.metrics.ObserveQueueLength(telemetry.BatchLogs, a.logQueue.Len)
	return err
}

// Run collects and sends until ctx ends, then flushes the queues within
// ShutdownTimeout and returns. It returns an error only when called while
// the agent is already running; undelivered batches are logged, not
// returned.
func (a *Agent) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("agent is already running")
	}
	a.logStart()

	var senders sync.WaitGroup
	senders.Go(func() { a.metricPipe.run(ctx) })
	senders.Go(func() { a.logPipe.run(ctx) })
	sourceDone := a.startLogSource(ctx)

	a.collectLoop(ctx)

	a.shutdown(ctx, &senders, sourceDone)
	return nil
}

func (a *Agent) logStart() {
	names := make([]string, len(a.collectors))
	for i, c := range a.collectors {
		names[i] = c.name
	}
	a.log.Info("agent started", "host", a.cfg.AgentHost, "server_url", a.cfg.ServerURL,
		"interval", a.cfg.CollectInterval, "collectors", names, "log_source", a.logSource != nil)
	if len(names) == 0 {
		a.log.Warn("no collectors selected: no metrics will be sent")
	}
}

// startLogSource runs the log source, if any, and returns a channel that
// is closed when it has returned.
func (a *Agent) startLogSource(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if a.logSource == nil {
		close(done)
		return done
	}

	go func() {
		defer close(done)
		err := a.logSource.Run(ctx, a.batcher.add)
		if err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("log source stopped", "error", err)
		}
	}()
	return done
}

// shutdown runs after ctx has ended: it waits for the log source, queues
// the last partial log batch, and delivers what is queued within the
// shutdown budget. Sends interrupted by the end of ctx, backoff sleeps
// included, are retried here at once.
func (a *Agent) shutdown(ctx context.Context, senders *sync.WaitGroup, sourceDone <-chan struct{}) {
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	a.log.Info("agent stopping, flushing queued batches", "budget", a.cfg.ShutdownTimeout,
		"metric_batches", a.metricQueue.Len(), "log_batches", a.logQueue.Len())

	select {
	case <-sourceDone:
	case <-flushCtx.Done():
		a.log.Warn("log source did not stop within the shutdown budget")
	}
	a.batcher.flush()
	a.metricQueue.Close()
	a.logQueue.Close()
	senders.Wait()

	var drains sync.WaitGroup
	drains.Go(func() { a.metricPipe.drain(flushCtx) })
	drains.Go(func() { a.logPipe.drain(flushCtx) })
	drains.Wait()

	st := a.Stats()
	a.log.Info("agent stopped", "metric_batches_unsent", st.MetricBatchesUnsent, "log_batches_unsent", st.LogBatchesUnsent,
		"metric_batches_dropped_queue_full", st.MetricBatchesDropped, "log_batches_dropped_queue_full", st.LogBatchesDropped)
}

// Stats counts what the agent has done since it was created.
type Stats struct {
	// MetricBatchesQueued and LogBatchesQueued count batches accepted by
	// the queues.
	MetricBatchesQueued uint64
	LogBatchesQueued    uint64
	// MetricBatchesDropped and LogBatchesDropped count batches dropped
	// because their queue was full.
	MetricBatchesDropped uint64
	LogBatchesDropped    uint64
	// MetricBatchesUnsent and LogBatchesUnsent count batches still
	// undelivered when the shutdown budget ran out.
	MetricBatchesUnsent uint64
	LogBatchesUnsent    uint64
	// MetricBatchesExpired and LogBatchesExpired count batches dropped
	// after the server failed on them with 500 in many delivery rounds.
	MetricBatchesExpired uint64
	LogBatchesExpired    uint64
	// Sender holds the sender's counters.
	Sender sender.Stats
}

// Stats returns a snapshot of the agent's counters.
func (a *Agent) Stats() Stats {
	return Stats{
		MetricBatchesQueued:  a.metricBatchesQueued.Load(),
		LogBatchesQueued:     a.logBatchesQueued.Load(),
		MetricBatchesDropped: a.metricQueue.Dropped(),
		LogBatchesDropped:    a.logQueue.Dropped(),
		MetricBatchesUnsent:  a.metricPipe.unsent.Load(),
		LogBatchesUnsent:     a.logPipe.unsent.Load(),
		MetricBatchesExpired: a.metricPipe.expired.Load(),
		LogBatchesExpired:    a.logPipe.expired.Load(),
		Sender:               a.sender.Stats(),
	}
}
