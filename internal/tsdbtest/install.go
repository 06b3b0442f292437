package tsdbtest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// engineDir is the engine's directory relative to the module root.
const engineDir = "tools/pglite"

// findEngineDir walks up from the working directory, which go test sets to
// the package under test, to the directory that holds tools/pglite.
func findEngineDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", engineDir, err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		candidate := filepath.Join(dir, engineDir)
		if _, err := os.Stat(filepath.Join(candidate, "server.mjs")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("%s/server.mjs not found in %s or any parent directory: run the test inside the repository", engineDir, wd)
		}
	}
}

// findNode returns the path of the node binary.
func findNode() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("node not found on PATH: the TimescaleDB test engine needs Node.js 20 or newer with npm")
	}
	return node, nil
}

// installDeps runs "npm ci" in dir when node_modules is missing or older
// than package-lock.json. A file lock keeps test binaries of other packages,
// which go test runs at the same time, from installing into the same
// directory at once.
func installDeps(dir string) error {
	unlock, err := lockInstall(dir)
	if err != nil {
		return err
	}
	defer unlock()

	if !depsStale(dir) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("npm not found on PATH: install Node.js 20 or newer with npm, or run \"npm ci --prefix %s\" by hand", dir)
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--prefix", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci --prefix %s: %w\n%s", dir, err, out)
	}
	return nil
}

// depsStale reports whether node_modules needs an install. npm ci writes
// node_modules/.package-lock.json last, so its absence means no install
// finished, and an older copy means package-lock.json changed since.
func depsStale(dir string) bool {
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return true
	}
	locked, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return true
	}
	return installed.ModTime().Before(locked.ModTime())
}

// installLockPath names a lock file in the temporary directory, so that the
// repository gets no stray files.
func installLockPath(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "miniobserv-tsdbtest-npm-"+hex.EncodeToString(sum[:6])+".lock")
}
