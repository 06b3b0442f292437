// Package notifier is an example third-party notification channel: the
// "file" type appends every event it receives to a file as one JSON line.
//
// It shows everything a notifier type needs: a package that registers itself
// from init, a strictly decoded and validated config, the send_resolved
// filter, and a Notify that honours its context. See README.md for how to
// compile such a package into the server.
//
// Config entry:
//
//	{
//	  "type": "file",
//	  "path": "/var/lib/miniobserv/events.jsonl",  // required, absolute
//	  "send_resolved": true                       // optional, default true
//	}
package notifier
