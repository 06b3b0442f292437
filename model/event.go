package model

import "time"

// Notification event kinds, as sent in Event.Event.
const (
	EventFiring   = "firing"
	EventResolved = "resolved"
	EventHostDown = "host.down"
	EventHostUp   = "host.up"
)

// Event is the message notifiers deliver: an alert changing state or a host going
// down or coming back. Its JSON form is the generic webhook body.
type Event struct {
	Event string `json:"event"`
	// RuleID is nil for host events.
	RuleID     *string           `json:"rule_id"`
	IncidentID string            `json:"incident_id"`
	Host       string            `json:"host"`
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels"`
	Value      *float64          `json:"value"`
	Threshold  *float64          `json:"threshold"`
	FiredAt    *time.Time        `json:"fired_at"`
	ResolvedAt *time.Time        `json:"resolved_at"`
}
