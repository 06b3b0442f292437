package sender_test

import (
	"sync"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/agent/sender"
)

// fakeClock is a settable clock for token lifetimes.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestJWTSourceRenewsBeforeExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	src := sender.NewJWTSource(testSecret, "db-1",
		sender.WithTokenTTL(time.Hour, 10*time.Minute), sender.WithTokenClock(clock.Now))

	first, err := src.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}

	clock.Advance(49 * time.Minute)
	if again, _ := src.Token(); again != first {
		t.Error("token renewed with 11 minutes left, more than the 10-minute margin")
	}

	clock.Advance(2 * time.Minute)
	renewed, _ := src.Token()
	if renewed == first {
		t.Fatal("token not renewed with 9 minutes left")
	}

	claims, err := verifyToken(renewed, clock.Now)
	if err != nil {
		t.Fatalf("renewed token does not verify: %v", err)
	}
	exp, _ := claims.GetExpirationTime()
	if want := clock.Now().Add(time.Hour); !exp.Equal(want) {
		t.Errorf("renewed token expires at %v, want %v", exp, want)
	}
}

func TestJWTSourceRenewAlwaysMints(t *testing.T) {
	t.Parallel()
	src := sender.NewJWTSource(testSecret, "db-1")

	a, _ := src.Token()
	b, err := src.Renew()
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if a == b {
		t.Error("Renew in the same second returned the same token")
	}
	if c, _ := src.Token(); c != b {
		t.Error("Token after Renew does not return the renewed token")
	}
}
