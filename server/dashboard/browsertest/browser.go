package browsertest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// DefaultChromiumPath is the install path of Debian's chromium package.
const DefaultChromiumPath = "/usr/bin/chromium"

// ErrNoChromium is wrapped by the error of FindChromium.
var ErrNoChromium = errors.New("chromium is not installed")

// DefaultTimeout bounds each action and wait of a Page.
const DefaultTimeout = 10 * time.Second

// pollInterval is how often a wait re-evaluates its condition in the page.
const pollInterval = 50 * time.Millisecond

// FindChromium returns DefaultChromiumPath if it exists, else the first of
// chromium, chromium-browser and google-chrome found on PATH.
func FindChromium() (string, error) {
	if _, err := os.Stat(DefaultChromiumPath); err == nil {
		return DefaultChromiumPath, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: not at %s nor on PATH; install it (Debian: apt-get install -y chromium) to run the browser tests", ErrNoChromium, DefaultChromiumPath)
}

// Browser is one headless Chromium process.
type Browser struct {
	ctx         context.Context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
}

// Launch starts headless Chromium at execPath with a fresh profile in
// userDataDir. The flags keep it from reaching any network service of its
// own (sync, component updates, background requests) and from using QUIC.
func Launch(execPath, userDataDir string) (*Browser, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(userDataDir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)

	// The first action starts the process; it must run on a context without
	// a deadline, because that context owns the browser.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		allocCancel()
		return nil, fmt.Errorf("start chromium %s: %w", execPath, err)
	}
	return &Browser{ctx: ctx, cancel: cancel, allocCancel: allocCancel}, nil
}

// Start launches a browser for the test and closes it when the test ends.
// A missing Chromium fails the test; it is never skipped.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := FindChromium()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Launch(path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Close ends the browser process and removes nothing else.
func (b *Browser) Close() {
	b.cancel()
	b.allocCancel()
}

// Viewport is the size of the page area in CSS pixels.
type Viewport struct {
	Width, Height int64
	// Scale is the device pixel ratio; 0 means 1.
	Scale float64
	// Mobile turns on mobile emulation (meta viewport, touch).
	Mobile bool
}

// Viewports the dashboard is checked at: a laptop screen and a phone.
var (
	Desktop = Viewport{Width: 1280, Height: 800, Scale: 1}
	Phone   = Viewport{Width: 390, Height: 844, Scale: 3, Mobile: true}
)

// PageOptions configures a new tab.
type PageOptions struct {
	Viewport Viewport
	// TimeZone is an IANA zone name such as "Asia/Kolkata" that the browser
	// reports to the page as the viewer's zone. Empty keeps the machine's
	// zone.
	TimeZone string
}

// Page is one tab with its own cookies and storage (a separate browser
// context), bound to a test.
type Page struct {
	t      testing.TB
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	messages []string
}

// NewPage opens a tab for the test. When the test has failed by the time
// it ends, the page is saved as failure.png in the test's artifact
// directory (kept with go test -artifacts) and the page's console errors
// are logged.
func (b *Browser) NewPage(t testing.TB, opts PageOptions) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &Page{t: t, ctx: ctx, cancel: cancel}

	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("open tab: %v", err)
	}
	go p.collectConsole(chromedp.Console(ctx))

	t.Cleanup(func() {
		if t.Failed() {
			p.saveFailure()
		}
		cancel()
	})

	p.Do(viewportAction(opts.Viewport))
	if opts.TimeZone != "" {
		p.Do(timeZoneAction(opts.TimeZone))
	}
	return p
}

func viewportAction(v Viewport) chromedp.Action[chromedp.Void] {
	if v.Width == 0 {
		v = Desktop
	}
	var vopts []chromedp.EmulateViewportOption
	if v.Scale > 0 {
		vopts = append(vopts, chromedp.EmulateScale(v.Scale))
	}
	if v.Mobile {
		vopts = append(vopts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(v.Width, v.Height, vopts...)
}

func timeZoneAction(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// collectConsole keeps console errors and uncaught exceptions until the
// tab closes.
func (p *Page) collectConsole(messages iter.Seq2[chromedp.ConsoleMessage, error]) {
	for m, err := range messages {
		if err != nil {
			return
		}
		if m.IsException() || m.Type == "error" {
			p.mu.Lock()
			p.messages = append(p.messages, m.String())
			p.mu.Unlock()
		}
	}
}

// ConsoleErrors returns the console errors and uncaught exceptions seen so
// far.
func (p *Page) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.messages...)
}

func (p *Page) saveFailure() {
	if path, err := p.screenshot("failure"); err != nil {
		p.t.Logf("screenshot after failure: %v", err)
	} else {
		p.t.Logf("screenshot after failure: %s", path)
	}
	if errs := p.ConsoleErrors(); len(errs) > 0 {
		p.t.Logf("console errors:\n%s", strings.Join(errs, "\n"))
	}
}

// Screenshot saves the whole page as NAME.png in the test's artifact
// directory and returns the file's path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	path, err := p.screenshot(name)
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	return path
}

// ScreenshotViewport saves what the viewport shows as NAME.png in the
// test's artifact directory and returns the file's path.
func (p *Page) ScreenshotViewport(name string) string {
	p.t.Helper()
	path, err := p.capture(name, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	return path
}

func (p *Page) screenshot(name string) (string, error) {
	return p.capture(name, chromedp.FullScreenshot(100))
}

func (p *Page) capture(name string, action chromedp.Action[[]byte]) (string, error) {
	ctx, cancel := context.WithTimeout(p.ctx, DefaultTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, action)
	if err != nil {
		return "", err
	}
	path := filepath.Join(p.t.ArtifactDir(), name+".png")
	return path, os.WriteFile(path, png, 0o644)
}

// Do runs actions with DefaultTimeout and fails the test on error.
func (p *Page) Do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser action: %v", err)
	}
}

// Navigate loads url and waits for the load event.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	p.Do(chromedp.Navigate(url))
}

// Click clicks the first element matching the CSS selector, once it is
// visible.
func (p *Page) Click(selector string) {
	p.t.Helper()
	p.Do(chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// SetValue sets an input's or select's value and fires its input and
// change events, as a user's edit does.
func (p *Page) SetValue(selector, value string) {
	p.t.Helper()
	p.WaitVisible(selector)
	Eval[bool](p, `((sel, value) => {
		const e = document.querySelector(sel);
		e.value = value;
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})(`+jsString(selector)+`, `+jsString(value)+`)`)
}

// Focus focuses the first element matching the selector.
func (p *Page) Focus(selector string) {
	p.t.Helper()
	p.Do(chromedp.Focus(chromedp.CSS(selector), chromedp.NodeVisible))
}

// Hover moves the mouse to the centre of the first element matching the
// selector, scrolling it into view first.
func (p *Page) Hover(selector string) {
	p.t.Helper()
	p.Do(chromedp.ScrollIntoView(chromedp.CSS(selector), chromedp.NodeVisible))
	centre := Eval[[]float64](p, `(() => { const r = document.querySelector(`+jsString(selector)+`).getBoundingClientRect();
		return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	p.Do(chromedp.MouseEvent(chromedp.MouseMoved, centre[0], centre[1]))
}

// Type sends key presses to the element matching the selector.
func (p *Page) Type(selector, keys string) {
	p.t.Helper()
	p.Do(chromedp.SendKeys(chromedp.CSS(selector), keys, chromedp.NodeVisible))
}

// Keys sends key presses to the focused element; see the chromedp kb
// package for names of special keys.
func (p *Page) Keys(keys string) {
	p.t.Helper()
	p.Do(chromedp.KeyEvent(keys))
}

// WaitVisible waits until an element matching the selector is visible.
func (p *Page) WaitVisible(selector string) {
	p.t.Helper()
	p.WaitFor(`(() => { const e = document.querySelector(`+jsString(selector)+`);
		return e !== null && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; })()`,
		"element "+selector+" to be visible")
}

// WaitHidden waits until no element matching the selector is visible.
func (p *Page) WaitHidden(selector string) {
	p.t.Helper()
	p.WaitFor(`(() => { const e = document.querySelector(`+jsString(selector)+`);
		return e === null || e.getClientRects().length === 0; })()`,
		"element "+selector+" to be hidden")
}

// WaitText waits until the trimmed text of the first element matching the
// selector equals want, and reports the last text seen if it never does.
func (p *Page) WaitText(selector, want string) {
	p.t.Helper()
	expr := `(() => { const e = document.querySelector(` + jsString(selector) + `);
		return e !== null && e.textContent.trim() === ` + jsString(want) + `; })()`
	if err := p.poll(expr); err != nil {
		p.t.Fatalf("wait for text of %s to be %q: %v; text now %q", selector, want, err, p.TextOrEmpty(selector))
	}
}

// WaitFor waits until the JavaScript expression is truthy. condition
// describes it in the failure message.
func (p *Page) WaitFor(expression, condition string) {
	p.t.Helper()
	if err := p.poll(expression); err != nil {
		p.t.Fatalf("wait for %s: %v", condition, err)
	}
}

// poll evaluates expression until it is truthy or DefaultTimeout passes.
// A navigation ends the evaluation in the old document, so the wait goes
// on in the new one. A test can thus wait for where a redirect leads.
func (p *Page) poll(expression string) error {
	deadline := time.Now().Add(DefaultTimeout)
	for {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return context.DeadlineExceeded
		}
		ctx, cancel := context.WithTimeout(p.ctx, remaining+time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expression,
			chromedp.WithPollingInterval(pollInterval),
			chromedp.WithPollingTimeout(remaining)))
		cancel()
		if err == nil || !isNavigationError(err) {
			return err
		}
	}
}

// isNavigationError reports whether err means that the document under an
// evaluation went away (the page navigated or reloaded).
func isNavigationError(err error) bool {
	text := err.Error()
	return strings.Contains(text, "navigated or closed") || strings.Contains(text, "Execution context was destroyed") ||
		strings.Contains(text, "Cannot find context with specified id")
}

// Text returns the trimmed text of the first element matching the
// selector, failing the test when there is none.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	text, ok := p.text(selector)
	if !ok {
		p.t.Fatalf("no element matches %s", selector)
	}
	return text
}

// TextOrEmpty returns the trimmed text of the first element matching the
// selector, or "" when there is none.
func (p *Page) TextOrEmpty(selector string) string {
	text, _ := p.text(selector)
	return text
}

func (p *Page) text(selector string) (string, bool) {
	p.t.Helper()
	result := Eval[*string](p, `(() => { const e = document.querySelector(`+jsString(selector)+`);
		return e === null ? null : e.textContent.trim(); })()`)
	if result == nil {
		return "", false
	}
	return *result, true
}

// Texts returns the trimmed text of every element matching the selector,
// in document order.
func (p *Page) Texts(selector string) []string {
	p.t.Helper()
	return Eval[[]string](p, `[...document.querySelectorAll(`+jsString(selector)+`)].map((e) => e.textContent.trim())`)
}

// Eval evaluates a JavaScript expression in the page and decodes its value
// into T, failing the test on error.
func Eval[T any](p *Page, expression string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, DefaultTimeout)
	defer cancel()
	value, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		p.t.Fatalf("evaluate %q: %v", abbreviate(expression), err)
	}
	return value
}

// SetCookie stores an HttpOnly, SameSite=Strict cookie for the origin of
// pageURL with path "/", replacing one of the same name, as a server's
// Set-Cookie would. Tests use it to put a forged or expired session in
// place of a real one.
func (p *Page) SetCookie(pageURL, name, value string) {
	p.t.Helper()
	httpOnly := true
	p.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: pageURL, Path: "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteStrict,
		})
		return err
	}))
}

// DisableCache makes the tab fetch every resource from the server, as on a
// first visit, even when an earlier navigation cached it.
func (p *Page) DisableCache() {
	p.t.Helper()
	p.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
}

// Location returns the page's current URL.
func (p *Page) Location() string {
	p.t.Helper()
	return Eval[string](p, "window.location.href")
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func abbreviate(s string) string {
	const limit = 120
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
