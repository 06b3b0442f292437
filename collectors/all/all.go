// Package all compiles every built-in collector into a program that
// blank-imports it. Each collector package adds one blank import here.
package all
