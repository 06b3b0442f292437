package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/kamerrezz/theminidog/internal/telemetry"
	"github.com/kamerrezz/theminidog/notifiers"
	"github.com/kamerrezz/theminidog/server/alerting"
	"github.com/kamerrezz/theminidog/server/config"
)

// notifierCloseTimeout bounds the wait for notifications still in flight at
// shutdown; it matches the dispatcher's per-send deadline.
const notifierCloseTimeout = notifiers.DefaultTimeout

// newDispatcher builds the notifiers listed in ALERT_NOTIFICATIONS, or
// returns nil when none are configured. Sent and failed deliveries are
// counted by notifier type.
func newDispatcher(cfg config.Config, log *slog.Logger, tel *telemetry.Telemetry, metrics *telemetry.ServerMetrics) (alerting.Sender, error) {
	list, err := notifiers.Build(cfg.Notifications)
	if err != nil {
		return nil, fmt.Errorf("ALERT_NOTIFICATIONS: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}

	tracer := tel.Tracer()
	d, err := notifiers.NewDispatcher(list, log, notifiers.WithResultHook(func(ctx context.Context, r notifiers.Result) {
		if r.Skipped {
			return
		}
		traceSend(ctx, tracer, r)
		if r.Err != nil {
			metrics.AddNotificationFailed(ctx, r.Type)
			return
		}
		metrics.AddNotificationSent(ctx, r.Type)
	}))
	if err != nil {
		return nil, fmt.Errorf("ALERT_NOTIFICATIONS: %w", err)
	}
	types := make([]string, len(list))
	for i, n := range list {
		types[i] = n.Type()
	}
	log.Info("notifiers configured", "count", len(list), "types", types)
	return d, nil
}

// traceSend records a finished delivery as a span that covers its attempts.
// The dispatcher reports a delivery once it has ended, so the span is
// written with its measured start and end times.
func traceSend(ctx context.Context, tracer trace.Tracer, r notifiers.Result) {
	end := time.Now()
	_, span := tracer.Start(ctx, "notify "+r.Type, trace.WithTimestamp(end.Add(-r.Duration)), trace.WithAttributes(
		attribute.String("miniobserv.notifier.type", r.Type),
		attribute.String("miniobserv.event", r.Event.Event),
		attribute.Int("miniobserv.notifier.attempts", r.Attempts),
	))
	if r.Err != nil {
		span.RecordError(r.Err)
		span.SetStatus(codes.Error, r.Err.Error())
	}
	span.End(trace.WithTimestamp(end))
}

// closeSender waits for notifications in flight when the sender is the
// dispatcher built from configuration.
func (s *Server) closeSender() {
	d, ok := s.sender.(*notifiers.Dispatcher)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifierCloseTimeout+time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		s.log.Warn("notifications still in flight at shutdown", "err", err)
	}
}
