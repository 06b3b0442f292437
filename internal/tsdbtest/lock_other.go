//go:build !unix

package tsdbtest

// lockInstall does nothing where flock is missing: concurrent test binaries
// may then race on the first npm ci.
func lockInstall(string) (func(), error) {
	return func() {}, nil
}
