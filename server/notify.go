package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

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
func newDispatcher(cfg config.Config, log *slog.Logger, metrics *telemetry.ServerMetrics) (alerting.Sender, error) {
	list, err := notifiers.Build(cfg.Notifications)
	if err != nil {
		return nil, fmt.Errorf("ALERT_NOTIFICATIONS: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}

	d, err := notifiers.NewDispatcher(list, log, notifiers.WithResultHook(func(ctx context.Context, r notifiers.Result) {
		switch {
		case r.Skipped:
		case r.Err != nil:
			metrics.AddNotificationFailed(ctx, r.Type)
		default:
			metrics.AddNotificationSent(ctx, r.Type)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("ALERT_NOTIFICATIONS: %w", err)
	}
	log.Info("notifiers configured", "count", len(list), "types", notifiers.Types())
	return d, nil
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
