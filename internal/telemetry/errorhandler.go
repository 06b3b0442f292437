package telemetry

import (
	"log/slog"
	"sync"
	"time"
)

// errorLogInterval is the minimum time between two logged export errors.
// An unreachable collector fails every batch, every few seconds. One line a
// minute with a count of the rest carries the same information without
// flooding the log.
const errorLogInterval = time.Minute

// errorHandler logs the errors the OTel SDK reports in the background
// (failed exports, dropped spans), at most one per errorLogInterval.
type errorHandler struct {
	logger *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	lastLogged time.Time
	suppressed int
}

func newErrorHandler(logger *slog.Logger) *errorHandler {
	return &errorHandler{logger: logger, now: time.Now}
}

// Handle implements otel.ErrorHandler.
func (h *errorHandler) Handle(err error) {
	h.mu.Lock()
	now := h.now()
	if !h.lastLogged.IsZero() && now.Sub(h.lastLogged) < errorLogInterval {
		h.suppressed++
		h.mu.Unlock()
		return
	}
	suppressed := h.suppressed
	h.suppressed = 0
	h.lastLogged = now
	h.mu.Unlock()

	h.logger.Warn("telemetry export failed", "err", err, "suppressed_since_last", suppressed)
}
