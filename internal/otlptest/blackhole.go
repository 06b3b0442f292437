package otlptest

import (
	"net"
	"sync"
	"testing"
)

// NewBlackHole starts a listener on 127.0.0.1 that accepts TCP connections
// and never reads from or writes to them, the way a hung collector behaves.
// It returns the listener's URL ("http://127.0.0.1:PORT"), usable as an
// OTLP endpoint for either protocol. Connections stay open until the test
// ends.
func NewBlackHole(tb testing.TB) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen for black hole: %v", err)
	}

	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			conn, err := lis.Accept()
			if err != nil {
				// net.ErrClosed after cleanup; any other error also ends
				// the loop rather than spinning on it.
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()

	tb.Cleanup(func() {
		_ = lis.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + lis.Addr().String()
}
