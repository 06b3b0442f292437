// Package buildinfo carries the version stamped into both binaries at link
// time with -ldflags "-X github.com/kamerrezz/theminidog/internal/buildinfo.Version=...".
package buildinfo

import (
	"fmt"
	"runtime"
)

// Set by the linker; the defaults mark a development build.
var (
	Version = "dev"
	Commit  = "unknown"
)

// String returns the version line printed by the version subcommands.
func String(program string) string {
	return fmt.Sprintf("%s %s (commit %s, %s, %s/%s)", program, Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
