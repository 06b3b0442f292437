// Package liveness tracks host status from accepted batches and sends
// host.down and host.up events, whether or not alert rules are configured.
//
// A host is ok while batches arrive, stale after the longer of
// HOST_STALE_AFTER and 2× its collection interval without one, and down
// after the longer of HOST_DOWN_AFTER and 3× its interval, by the server's
// clock. host.down is sent once per outage with a new incident id; the next
// accepted batch sends host.up with the same id.
//
// State lives in memory and is written behind to the hosts table: a host's
// last_seen at most once a minute, new hosts, down and up transitions and
// retirements at the next tick, everything at shutdown. After a restart the
// stored hosts are unknown until they report. One that has not reported
// when its down period has passed since start-up is down: host.down is sent
// then, unless the previous run had already sent it (the table keeps the
// open incident, and the host.up that follows carries its id). A host that
// reports within that window raises nothing.
//
// Retiring a host (DELETE /api/v1/hosts/{host} with an ingest or unscoped
// token, or `miniobserv-server hosts retire NAME`) removes it from the host
// list, ends any open down incident without an event, resolves its firing
// alerts and stops new ones. A retired host that sends a batch again is
// active again, as a host that was re-installed under the same name would
// be. A running server reads retirements made by the command within a
// minute.
package liveness
