// Package pagerduty is the "pagerduty" notifier: it sends each event to the
// PagerDuty Events API v2, opening an alert on firing and host.down and
// resolving it on resolved and host.up.
//
// Config entry:
//
//	{
//	  "type": "pagerduty",
//	  "routing_key": "0123456789abcdef0123456789abcdef",  // required, 32 characters
//	  "severity": "critical",       // optional: critical (default), error, warning, info
//	  "url": "https://...",         // optional, default DefaultURL
//	  "send_resolved": true         // optional, default true
//	}
//
// The routing key is the Integration Key of an "Events API v2" integration
// on a PagerDuty service; treat the config as a secret.
//
// # Deduplication
//
// Every event carries a dedup_key that depends only on what the alert is
// about, so that a resolve finds the alert its trigger opened:
//
//	rule events:  "miniobserv-" + hex(SHA-256(`["rule",<rule_id>,<host>,<labels>]`))
//	host events:  "miniobserv-" + hex(SHA-256(`["host",<host>]`))
//
// where the array is compact JSON with <labels> as an object whose keys are
// sorted, and with <, > and & written as themselves rather than as \u
// escapes. A missing rule id is "" and missing labels are {}. DedupKey
// computes the key.
//
// PagerDuty applies a trigger to the alert already open under the same key
// and opens a new alert only once that one is resolved. With
// "send_resolved": false no resolve is ever sent, so the second and later
// incidents of one rule, host and label set are added to the first alert
// until someone resolves it by hand.
package pagerduty
