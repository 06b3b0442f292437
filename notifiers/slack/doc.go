// Package slack is the "slack" notifier: it posts a one-line message per
// event to a Slack incoming webhook.
//
// Config entry:
//
//	{
//	  "type": "slack",
//	  "url": "https://hooks.slack.com/services/...",  // required
//	  "send_resolved": true                          // optional, default true
//	}
//
// The body is {"text": "..."} with the text of notifiers.Summary, such as
// "[FIRING] cpu.usage_pct &gt; 90 on host-a (core=total): 95.0". Slack reads
// &, < and > as control characters, so they are sent as the entities &amp;,
// &lt; and &gt;, which Slack shows as the plain characters. The webhook URL
// contains a secret token: treat the config as a secret.
package slack
