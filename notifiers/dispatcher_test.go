package notifiers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kamerrezz/theminidog/model"
	"github.com/kamerrezz/theminidog/notifiers"
	"github.com/kamerrezz/theminidog/notifiers/webhook"
)

// fastRetries keeps retry waits short so that tests run quickly. The
// behaviour under test does not depend on their length.
var fastRetries = notifiers.WithBackoff(5*time.Millisecond, 20*time.Millisecond)

func alertEvent() model.Event {
	return model.Event{
		Event: model.EventFiring, RuleID: ptr("cpu-high"), IncidentID: "inc-1", Host: "host-a",
		Name: model.CPUUsagePct, Labels: map[string]string{"core": "total"},
		Value: ptr(95.0), Threshold: ptr(90.0), FiredAt: &firedAt,
	}
}

func newWebhook(t *testing.T, url string) notifiers.Notifier {
	t.Helper()
	n, err := webhook.New(webhook.Config{URL: url})
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	return n
}

// newDispatcher returns a dispatcher whose results arrive on the channel.
func newDispatcher(t *testing.T, list []notifiers.Notifier, opts ...notifiers.Option) (*notifiers.Dispatcher, chan notifiers.Result) {
	t.Helper()
	results := make(chan notifiers.Result, 64)
	opts = append([]notifiers.Option{fastRetries, notifiers.WithResultHook(func(_ context.Context, r notifiers.Result) { results <- r })}, opts...)

	d, err := notifiers.NewDispatcher(list, nil, opts...)
	if err != nil {
		t.Fatalf("NewDispatcher: %v", err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d, results
}

// scriptedReceiver responds with statuses in order, then 200, and counts
// requests.
func scriptedReceiver(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if int(n) <= len(statuses) {
			w.WriteHeader(statuses[n-1])
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestDispatcherRetriesServerErrors(t *testing.T) {
	srv, requests := scriptedReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)})

	d.Send(context.Background(), alertEvent())
	res := <-results

	if res.Err != nil {
		t.Fatalf("delivery failed: %v", res.Err)
	}
	if res.Attempts != 3 {
		t.Errorf("Attempts = %d, want 3 (two 5xx, then 200)", res.Attempts)
	}
	if got := requests.Load(); got != 3 {
		t.Errorf("receiver saw %d requests, want 3", got)
	}
	if got := d.Counts()["webhook"]; got != (notifiers.Counts{Sent: 1}) {
		t.Errorf("Counts = %+v, want one sent", got)
	}
}

func TestDispatcherRetriesTooManyRequests(t *testing.T) {
	srv, requests := scriptedReceiver(t, http.StatusTooManyRequests)
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)})

	d.Send(context.Background(), alertEvent())
	res := <-results

	if res.Err != nil || res.Attempts != 2 || requests.Load() != 2 {
		t.Errorf("after one 429: err %v, %d attempts, %d requests; want success on the second", res.Err, res.Attempts, requests.Load())
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)}, notifiers.WithTimeout(2*time.Second))

	d.Send(context.Background(), alertEvent())
	res := <-results

	var statusErr *notifiers.StatusError
	if !errors.As(res.Err, &statusErr) || statusErr.RetryAfter != 30*time.Second {
		t.Fatalf("Err = %v, want a 429 StatusError with RetryAfter 30s", res.Err)
	}
	if !strings.Contains(res.Err.Error(), "would pass the deadline") {
		t.Errorf("Err = %v, want it to give up because the wait passes the deadline", res.Err)
	}
	if requests.Load() != 1 {
		t.Errorf("receiver saw %d requests, want 1: a retry before Retry-After ignores the receiver", requests.Load())
	}
}

func TestDispatcherDoesNotRetryClientErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound} {
		srv, requests := scriptedReceiver(t, status, status, status)
		d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)})

		d.Send(context.Background(), alertEvent())
		res := <-results

		var statusErr *notifiers.StatusError
		if !errors.As(res.Err, &statusErr) || statusErr.StatusCode != status {
			t.Errorf("status %d: Err = %v, want a StatusError with that code", status, res.Err)
		}
		if res.Attempts != 1 || requests.Load() != 1 {
			t.Errorf("status %d: %d attempts, %d requests; want exactly one", status, res.Attempts, requests.Load())
		}
		if got := d.Counts()["webhook"]; got != (notifiers.Counts{Failed: 1}) {
			t.Errorf("status %d: Counts = %+v, want one failed", status, got)
		}
	}
}

func TestDispatcherRetriesNetworkErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // connections to addr are now refused
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, addr)}, notifiers.WithTimeout(300*time.Millisecond))

	d.Send(context.Background(), alertEvent())
	res := <-results

	if res.Err == nil {
		t.Fatal("delivery to a closed port succeeded")
	}
	if res.Attempts < 2 {
		t.Errorf("Attempts = %d, want retries of the refused connection", res.Attempts)
	}
}

// hangingReceiver holds every request until the client gives up or the
// test ends, and reports each arrival.
func hangingReceiver(t *testing.T) (*httptest.Server, chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 64)
	testDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-testDone:
		}
	}))
	t.Cleanup(func() {
		close(testDone)
		srv.Close()
	})
	return srv, arrived
}

func TestDispatcherDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv, _ := hangingReceiver(t)
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)}, notifiers.WithTimeout(timeout))

	d.Send(context.Background(), alertEvent())
	res := <-results

	if !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v, want context.DeadlineExceeded", res.Err)
	}
	if res.Duration < timeout {
		t.Errorf("delivery gave up after %s, before its %s deadline", res.Duration, timeout)
	}
	// A loose bound: the delivery must end near its deadline, not run on
	// until some other timeout.
	if limit := timeout + 3*time.Second; res.Duration > limit {
		t.Errorf("delivery ran %s, past its %s deadline", res.Duration, timeout)
	}
	if got := d.Counts()["webhook"]; got != (notifiers.Counts{Failed: 1}) {
		t.Errorf("Counts = %+v, want one failed", got)
	}
}

func TestDispatcherSurvivesCallerCancel(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	var delivered atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		delivered.Add(1)
	}))
	defer srv.Close()
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)})

	// As an HTTP handler does: send, then return, which cancels the request
	// context while the delivery is in flight.
	requestCtx, cancel := context.WithCancel(context.Background())
	d.Send(requestCtx, alertEvent())
	<-arrived
	cancel()
	close(release)
	res := <-results

	if res.Err != nil {
		t.Fatalf("delivery failed after the caller's context was cancelled: %v", res.Err)
	}
	if delivered.Load() != 1 {
		t.Errorf("receiver completed %d requests, want 1", delivered.Load())
	}
}

func TestDispatcherKeepsContextValues(t *testing.T) {
	type key struct{}
	var seen atomic.Value
	probe := probeNotifier{notify: func(ctx context.Context) error {
		seen.Store(ctx.Value(key{}))
		return nil
	}}
	d, results := newDispatcher(t, []notifiers.Notifier{probe})

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "trace-1"))
	cancel()
	d.Send(ctx, alertEvent())
	<-results

	if got := seen.Load(); got != "trace-1" {
		t.Errorf("notifier saw context value %v, want trace-1", got)
	}
}

// probeNotifier runs a function as its Notify.
type probeNotifier struct {
	notify func(ctx context.Context) error
}

func (p probeNotifier) Type() string { return "probe" }

func (p probeNotifier) Notify(ctx context.Context, _ model.Event) error { return p.notify(ctx) }

func TestDispatcherBoundsConcurrentSends(t *testing.T) {
	const limit, notifierCount = 2, 6
	var current, peak atomic.Int64
	arrived := make(chan struct{}, notifierCount)
	release := make(chan struct{})
	probe := probeNotifier{notify: func(ctx context.Context) error {
		now := current.Add(1)
		for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
		}
		arrived <- struct{}{}
		<-release
		current.Add(-1)
		return nil
	}}
	list := make([]notifiers.Notifier, notifierCount)
	for i := range list {
		list[i] = probe
	}
	d, results := newDispatcher(t, list, notifiers.WithMaxConcurrent(limit))

	d.Send(context.Background(), alertEvent())
	for range limit {
		<-arrived
	}
	// Every delivery started at Send, so without the bound the others would
	// enter Notify now. Proving that none does needs a waiting window.
	select {
	case <-arrived:
		t.Errorf("a send started while %d were in flight, limit %d", limit, limit)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	for range notifierCount {
		if res := <-results; res.Err != nil {
			t.Errorf("notifier %d failed: %v", res.Index, res.Err)
		}
	}

	if got := peak.Load(); got > limit {
		t.Errorf("%d sends ran at once, want at most %d", got, limit)
	}
}

func TestDispatcherOrdersEventsOfOneAlert(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	firingEntered := make(chan struct{})
	resolvedEntered := make(chan struct{}, 1)
	releaseFiring := make(chan struct{})
	probe := eventProbe{notify: func(ctx context.Context, ev model.Event) error {
		mu.Lock()
		calls = append(calls, "enter "+ev.Event)
		mu.Unlock()
		if ev.Event == model.EventFiring {
			close(firingEntered)
			<-releaseFiring
		} else {
			resolvedEntered <- struct{}{}
		}
		mu.Lock()
		calls = append(calls, "exit "+ev.Event)
		mu.Unlock()
		return nil
	}}
	d, results := newDispatcher(t, []notifiers.Notifier{probe})
	resolved := alertEvent()
	resolved.Event = model.EventResolved

	d.Send(context.Background(), alertEvent())
	<-firingEntered
	d.Send(context.Background(), resolved)
	// Proving that the resolve waits needs a waiting window.
	select {
	case <-resolvedEntered:
		t.Error("the resolved event was delivered while its firing event was still in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(releaseFiring)
	<-results
	<-results

	mu.Lock()
	defer mu.Unlock()
	want := []string{"enter firing", "exit firing", "enter resolved", "exit resolved"}
	if strings.Join(calls, ", ") != strings.Join(want, ", ") {
		t.Errorf("calls = %v, want %v", calls, want)
	}
}

func TestDispatcherParallelForUnrelatedAlerts(t *testing.T) {
	arrived := make(chan string, 2)
	release := make(chan struct{})
	probe := eventProbe{notify: func(ctx context.Context, ev model.Event) error {
		arrived <- ev.Host
		<-release
		return nil
	}}
	d, results := newDispatcher(t, []notifiers.Notifier{probe})
	other := alertEvent()
	other.Host = "host-b"

	d.Send(context.Background(), alertEvent())
	d.Send(context.Background(), other)
	// Both deliveries must be in flight at once. A serialising dispatcher
	// would block here until the test times out.
	hosts := map[string]bool{<-arrived: true, <-arrived: true}
	close(release)
	<-results
	<-results

	if !hosts["host-a"] || !hosts["host-b"] {
		t.Errorf("in flight together: %v, want host-a and host-b", hosts)
	}
}

// eventProbe runs a function, which receives the event, as its Notify.
type eventProbe struct {
	notify func(ctx context.Context, ev model.Event) error
}

func (p eventProbe) Type() string { return "probe" }

func (p eventProbe) Notify(ctx context.Context, ev model.Event) error { return p.notify(ctx, ev) }

// TestDispatcherFlappingAlert sends the events of an alert that fires,
// resolves and fires again: every event reaches the webhook, in order, with
// its own incident, and send_resolved false removes only the resolves.
func TestDispatcherFlappingAlert(t *testing.T) {
	var events []model.Event
	for _, incident := range []string{"inc-1", "inc-2"} {
		fire := alertEvent()
		fire.IncidentID = incident
		resolve := fire
		resolve.Event = model.EventResolved
		resolve.Value = ptr(50.0)
		resolve.ResolvedAt = ptr(firedAt.Add(time.Minute))
		events = append(events, fire, resolve)
	}

	cases := []struct {
		sendResolved bool
		want         []string
	}{
		{true, []string{"firing inc-1", "resolved inc-1", "firing inc-2", "resolved inc-2"}},
		{false, []string{"firing inc-1", "firing inc-2"}},
	}
	for _, tc := range cases {
		var mu sync.Mutex
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var ev model.Event
			if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
				t.Errorf("webhook body: %v", err)
			}
			mu.Lock()
			got = append(got, ev.Event+" "+ev.IncidentID)
			mu.Unlock()
		}))
		n, err := webhook.New(webhook.Config{Common: notifiers.Common{SendResolved: ptr(tc.sendResolved)}, URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		d, results := newDispatcher(t, []notifiers.Notifier{n})

		for _, ev := range events {
			d.Send(context.Background(), ev)
		}
		for range events {
			if res := <-results; res.Err != nil {
				t.Errorf("send_resolved=%v: %s failed: %v", tc.sendResolved, res.Event.Event, res.Err)
			}
		}
		srv.Close()

		if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("send_resolved=%v: webhooks %v, want %v", tc.sendResolved, got, tc.want)
		}
	}
}

func TestDispatcherCountsSkipped(t *testing.T) {
	srv, requests := scriptedReceiver(t)
	n, err := webhook.New(webhook.Config{Common: notifiers.Common{SendResolved: ptr(false)}, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	d, results := newDispatcher(t, []notifiers.Notifier{n})
	resolved := alertEvent()
	resolved.Event = model.EventResolved

	d.Send(context.Background(), resolved)
	res := <-results

	if !res.Skipped || res.Err != nil || res.Attempts != 0 {
		t.Errorf("Result = %+v, want skipped without attempts", res)
	}
	if requests.Load() != 0 {
		t.Errorf("receiver saw %d requests for a skipped event", requests.Load())
	}
	if got := d.Counts()["webhook"]; got != (notifiers.Counts{Skipped: 1}) {
		t.Errorf("Counts = %+v, want one skipped", got)
	}
}

func TestDispatcherIsolatesNotifiers(t *testing.T) {
	good, goodRequests := scriptedReceiver(t)
	bad, _ := scriptedReceiver(t, http.StatusBadRequest)
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, bad.URL), newWebhook(t, good.URL)})

	d.Send(context.Background(), alertEvent())
	byIndex := map[int]notifiers.Result{}
	for range 2 {
		res := <-results
		byIndex[res.Index] = res
	}

	if byIndex[0].Err == nil {
		t.Error("the notifier answered with 400 reported success")
	}
	if byIndex[1].Err != nil || goodRequests.Load() != 1 {
		t.Errorf("the healthy notifier: err %v, %d requests; want one delivery", byIndex[1].Err, goodRequests.Load())
	}
	if got := d.Counts()["webhook"]; got != (notifiers.Counts{Sent: 1, Failed: 1}) {
		t.Errorf("Counts = %+v, want one sent and one failed", got)
	}
}

func TestDispatcherCloseWaitsForInFlight(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	defer srv.Close()
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)})

	d.Send(context.Background(), alertEvent())
	<-arrived
	closed := make(chan error, 1)
	go func() { closed <- d.Close(context.Background()) }()
	close(release)

	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case res := <-results:
		if res.Err != nil {
			t.Errorf("in-flight delivery failed: %v", res.Err)
		}
	default:
		t.Error("Close returned before the in-flight delivery finished")
	}
}

func TestDispatcherCloseGivesUp(t *testing.T) {
	srv, arrived := hangingReceiver(t)
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)}, notifiers.WithTimeout(time.Minute))

	d.Send(context.Background(), alertEvent())
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := d.Close(ctx)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("Close with an ended context = %v, want context.Canceled", err)
	}
	res := <-results
	if res.Err == nil || !strings.Contains(res.Err.Error(), "cancelled at shutdown") {
		t.Errorf("abandoned delivery Err = %v, want a shutdown cancellation", res.Err)
	}
}

func TestDispatcherSendAfterClose(t *testing.T) {
	srv, requests := scriptedReceiver(t)
	d, results := newDispatcher(t, []notifiers.Notifier{newWebhook(t, srv.URL)})
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	d.Send(context.Background(), alertEvent())
	res := <-results

	if !errors.Is(res.Err, notifiers.ErrDispatcherClosed) {
		t.Errorf("Err = %v, want ErrDispatcherClosed", res.Err)
	}
	if requests.Load() != 0 {
		t.Errorf("a closed dispatcher sent %d requests", requests.Load())
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDispatcherLogsFailure(t *testing.T) {
	srv, _ := scriptedReceiver(t, http.StatusForbidden)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	results := make(chan notifiers.Result, 1)
	d, err := notifiers.NewDispatcher([]notifiers.Notifier{newWebhook(t, srv.URL+"/T0/B0/secret-token")}, logger,
		notifiers.WithResultHook(func(_ context.Context, r notifiers.Result) { results <- r }))
	if err != nil {
		t.Fatal(err)
	}

	d.Send(context.Background(), alertEvent())
	<-results

	var record map[string]any
	if err := json.NewDecoder(strings.NewReader(logs.String())).Decode(&record); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("log is not JSON: %v\n%s", err, logs.String())
	}
	want := map[string]any{"msg": "notification failed", "level": "ERROR", "notifier": "webhook", "event": "firing", "host": "host-a", "rule_id": "cpu-high"}
	for k, v := range want {
		if record[k] != v {
			t.Errorf("log %s = %v, want %v", k, record[k], v)
		}
	}
	if strings.Contains(logs.String(), "secret-token") {
		t.Errorf("log contains the URL token: %s", logs.String())
	}
}

func TestNewDispatcherRejectsBadOptions(t *testing.T) {
	cases := map[string][]notifiers.Option{
		"zero timeout":     {notifiers.WithTimeout(0)},
		"zero concurrency": {notifiers.WithMaxConcurrent(0)},
		"inverted backoff": {notifiers.WithBackoff(time.Second, time.Millisecond)},
	}
	for name, opts := range cases {
		if _, err := notifiers.NewDispatcher(nil, nil, opts...); err == nil {
			t.Errorf("%s: NewDispatcher accepted it", name)
		}
	}

	if _, err := notifiers.NewDispatcher([]notifiers.Notifier{nil}, nil); err == nil {
		t.Error("NewDispatcher accepted a nil notifier")
	}
}
