package browsertest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// APIPrefix is the path prefix of the JSON API that Interceptor records and
// can make fail.
const APIPrefix = "/api/"

// Request is one API request the page made.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Status is the status code the interceptor itself responded with, or 0
	// when the request went on to the wrapped handler.
	Status int
}

// Interceptor wraps the handler of a test server (a FakeAPI or the real
// server) and records every request under APIPrefix. After FailAPI it
// responds to those requests with an error status instead of passing them
// on.
type Interceptor struct {
	next http.Handler

	mu       sync.Mutex
	status   int
	requests []Request
	// changed is closed and replaced whenever a request is recorded, so
	// that waiters wake up on the event rather than on a timer.
	changed chan struct{}
}

// NewInterceptor wraps next.
func NewInterceptor(next http.Handler) *Interceptor {
	return &Interceptor{next: next, changed: make(chan struct{})}
}

// FailAPI makes every later API request get status (with a JSON error
// body) without reaching the wrapped handler. Status 0 ends the failure.
func (i *Interceptor) FailAPI(status int) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.status = status
}

func (i *Interceptor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, APIPrefix) {
		i.next.ServeHTTP(w, r)
		return
	}

	i.mu.Lock()
	status := i.status
	i.requests = append(i.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: status})
	close(i.changed)
	i.changed = make(chan struct{})
	i.mu.Unlock()

	if status == 0 {
		i.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "injected failure: status " + http.StatusText(status)})
}

// Count returns how many API requests have been recorded; pass it to
// WaitRequest to wait only for requests made after this point.
func (i *Interceptor) Count() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.requests)
}

// Requests returns a copy of the recorded API requests, oldest first.
func (i *Interceptor) Requests() []Request {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Request(nil), i.requests...)
}

// WaitRequest waits up to DefaultTimeout for a request recorded at index
// since or later that match accepts, and returns it. The test fails when
// none comes; what names the awaited request in the message.
func (i *Interceptor) WaitRequest(t testing.TB, since int, what string, match func(Request) bool) Request {
	t.Helper()
	return i.WaitRequests(t, since, 1, what, match)[0]
}

// WaitRequests waits up to DefaultTimeout for n requests recorded at index
// since or later that match accepts, and returns them.
func (i *Interceptor) WaitRequests(t testing.TB, since, n int, what string, match func(Request) bool) []Request {
	t.Helper()
	deadline := time.NewTimer(DefaultTimeout)
	defer deadline.Stop()

	var found []Request
	next := since
	for {
		i.mu.Lock()
		for ; next < len(i.requests) && len(found) < n; next++ {
			if match(i.requests[next]) {
				found = append(found, i.requests[next])
			}
		}
		changed := i.changed
		i.mu.Unlock()
		if len(found) == n {
			return found
		}

		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("got %d of %d API requests for %s within %s", len(found), n, what, DefaultTimeout)
			return nil
		}
	}
}

// IsQuery reports whether r is a GET of path whose query has every
// key=value in want (an empty value in want matches only an absent or
// empty parameter).
func IsQuery(r Request, path string, want map[string]string) bool {
	if r.Path != path {
		return false
	}
	for key, value := range want {
		if r.Query.Get(key) != value {
			return false
		}
	}
	return true
}
