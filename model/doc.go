// Package model is the wire contract shared by the MiniObserv agent, the
// server, collectors, notifiers and third-party clients: the nine allowlisted
// metric names, the metric and log batch types, and their validation.
//
// The package imports nothing else from the project, so any program can
// depend on it without pulling in agent or server code.
package model
