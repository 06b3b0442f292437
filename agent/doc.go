// Package agent runs the MiniObserv agent: every interval it runs the
// selected collectors, stamps their points with one timestamp and the host
// name, and queues one metric batch. Log entries from a LogSource are
// batched by count, size and age into a separate queue, so a burst of log
// lines never pushes metrics out. One sender loop per queue delivers the
// batches and keeps a batch that the server cannot take yet until it can.
//
// On shutdown (the context given to Run ends) the agent stops collecting,
// flushes the queues within ShutdownTimeout, and logs what it could not
// send as dropped.
package agent
