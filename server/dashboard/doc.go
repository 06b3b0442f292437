// Package dashboard serves the MiniObserv web dashboard: a single page that
// reads the server's JSON API from the browser, plus the sign-in page.
//
// The page, its script and its stylesheet are built from web/ by esbuild
// and embedded in the binary, so a server needs no files on disk and the
// browser loads nothing from outside the server (no CDN, no web fonts).
// The built files are committed under assets/, which keeps `go build`
// working without Node.js; rebuild them after changing web/ with
//
//	npm --prefix web ci && npm --prefix web run build
//
// Handler must be mounted at the root of the server, because the page
// refers to /assets/..., /api/v1/... and /login by absolute path. The
// package does no authentication: the server decides who may load "/" and
// handles POST /login itself.
package dashboard
