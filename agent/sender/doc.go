// Package sender posts metric and log batches to the MiniObserv server.
//
// Each request carries an HS256 JWT minted from the shared AGENT_TOKEN and
// renewed before it expires, so an agent that runs for months never sends
// an expired token. Failed requests are retried by go-retryablehttp with
// exponential backoff and jitter. The wait honours the server's
// Retry-After, but never beyond RetryWaitMax, because the library's own
// backoff lets Retry-After exceed its maximum
// (https://github.com/hashicorp/go-retryablehttp/issues/247).
//
// Responses decide what happens to a batch:
//   - 2xx: delivered. A batch id the server already stored is acknowledged
//     with {"ingested":0,"duplicate":true}, so a retry never stores twice.
//   - 401: the token is renewed and the request retried once.
//   - 413: the batch is split into halves "<id>-a" and "<id>-b", each sent
//     in turn and split again if needed. A single item that is still too
//     large is dropped.
//   - 408, 429 and 5xx other than 501 and 505, and connection errors: retried
//     up to RetryMax times, then reported as a *TemporaryError so that the
//     caller can keep the batch and try again later.
//   - any other status: the batch is dropped and the server's error text is
//     logged. The caller gets a *DropError.
package sender
