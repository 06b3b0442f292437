// Package alerting evaluates the alert rules of ALERT_RULES or
// ALERT_RULES_FILE against the newest stored metric values and turns state
// changes into notification events.
//
// A rule is a JSON object:
//
//	{"id": "cpu-high", "host": "*", "name": "cpu.usage_pct", "op": ">",
//	 "threshold": 90, "for": "5m", "labels": {"core": "total"},
//	 "clear_threshold": 80, "repeat": "1h", "send_resolved": true}
//
// id, host, name, op and threshold are required; host "*" watches every
// host. An invalid rule (missing or duplicate id, unknown metric, bad op or
// duration, unknown field) stops the server at start-up with a message that
// names the rule by index and id.
//
// Each evaluation runs one query per rule: the newest value of every series
// (host plus full label set) of the rule's metric, filtered by the rule's
// labels. Every series is its own alert, so a rule on cpu.usage_pct without
// labels watches each core separately and never an average across them.
//
// States: an alert turns pending when the condition first holds, firing
// once it has held for the rule's for duration, and ends when the value no
// longer meets the condition (or, with clear_threshold, no longer meets
// "value op clear_threshold"). Evaluation times lie on a grid of
// ALERT_EVAL_INTERVAL, so for equal to one interval fires at the second
// consecutive evaluation that finds the condition met. Each alert draws a new
// incident id when it turns pending; its firing, repeated firing and
// resolved events all carry it. send_resolved=false suppresses the resolved
// event only.
//
// No data: a series whose newest value is older than the longer of two
// evaluation intervals and its host's down period (HOST_DOWN_AFTER, or 3×
// the agent's interval, capped at one hour) is dropped. A firing alert on
// it resolves, with the last value seen. Series of retired hosts are
// dropped the same way.
//
// Firing alerts are stored in the firing_alerts table, so a restart resumes
// them with their incident id instead of firing them again.
//
// Events go to a Sender. The server puts an Outbox in front of the notifier
// dispatcher, so a slow notifier never delays evaluation or ingest.
package alerting
