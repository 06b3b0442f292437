// Package queue holds the agent's batches between the collector loop and
// the sender. Queue is the interface the agent depends on, so that a
// disk-backed queue can replace the in-memory one without other changes.
//
// A full queue drops the newest batch: the batches already queued are the
// older data, which is the data most likely to be missing on the server.
package queue
