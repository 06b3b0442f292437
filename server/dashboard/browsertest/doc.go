// Package browsertest drives the dashboard in headless Chromium from Go
// tests, and supplies what those tests run against.
//
//   - Browser and Page start Chromium (chromedp) with a fresh profile, run
//     actions with a timeout, and wait for selectors, text and conditions.
//     A Page can set cookies and turn off the cache, and it saves a
//     screenshot into the test's artifact directory when the test fails.
//   - FakeAPI serves the read API (hosts, metrics/query, series, alerts,
//     logs/query) from a Dataset defined in the test, aggregating raw samples
//     into buckets as the server does. The dashboard's tests use it only for
//     states the real server cannot show on cue.
//   - Interceptor wraps any handler (the fake or the real server), records
//     the API requests the page makes and can make every API call fail.
//   - FormatPercent, FormatBytes and FormatRate write values the way the
//     dashboard does, so tests derive the expected text from their data.
//
// The package is imported by tests only. Chromium must be installed: on
// Debian, apt-get install -y chromium.
package browsertest
