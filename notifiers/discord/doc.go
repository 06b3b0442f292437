// Package discord is the "discord" notifier: it posts a one-line message per
// event to a Discord channel webhook.
//
// Config entry:
//
//	{
//	  "type": "discord",
//	  "url": "https://discord.com/api/webhooks/...",  // required
//	  "send_resolved": true                          // optional, default true
//	}
//
// The body is {"content": "...", "allowed_mentions": {"parse": []}} with the
// text of notifiers.Summary. Markdown characters in it are escaped with a
// backslash, so that a label value like "a_b_c" is not shown in italics. The
// empty allowed_mentions list keeps a host or label named "@everyone" from
// pinging the channel. Content longer than Discord's limit of 2000
// characters is cut and ends with "…". The webhook URL contains a secret
// token: treat the config as a secret.
package discord
