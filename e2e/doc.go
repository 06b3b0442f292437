// Package e2e holds end-to-end tests that build the real binaries and run
// them against a real PostgreSQL, as an operator would.
package e2e
