// Package webhook is the "webhook" notifier: it POSTs each event as the
// generic MiniObserv JSON body to a URL of the user's choice.
//
// Config entry:
//
//	{
//	  "type": "webhook",
//	  "url": "https://hooks.example.com/miniobserv",   // required, http or https
//	  "headers": {"Authorization": "Bearer ..."},      // optional extra headers
//	  "secret": "...",                                 // optional, enables signing
//	  "send_resolved": true                            // optional, default true
//	}
//
// The body is the event as JSON, for example
//
//	{"event":"firing","rule_id":"cpu-high","incident_id":"...","host":"host-a",
//	 "name":"cpu.usage_pct","labels":{"core":"total"},"value":95,"threshold":90,
//	 "fired_at":"2025-01-02T03:04:05Z","resolved_at":null}
//
// # Signature
//
// With a secret, every request carries two headers:
//
//	X-MiniObserv-Timestamp: 1735787045
//	X-MiniObserv-Signature: sha256=<hex>
//
// where <hex> is the lowercase hex HMAC-SHA256, keyed with the secret, of the
// timestamp header value, a ".", and the raw request body. A receiver
// verifies a request like this:
//
//  1. Read the raw body before parsing it as JSON.
//  2. Compute HMAC-SHA256(secret, timestamp + "." + body) and compare it with
//     the hex after "sha256=" in constant time (hmac.Equal in Go,
//     hmac.compare_digest in Python, crypto.timingSafeEqual in Node.js).
//  3. Reject the request when the timestamp is more than a few minutes away
//     from the receiver's clock, so that a captured request cannot be
//     replayed later.
//
// Verify does all three for Go receivers. A retried delivery is signed again
// with a fresh timestamp.
package webhook
