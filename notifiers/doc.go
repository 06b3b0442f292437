// Package notifiers is the registry that notification channels join from
// their init functions, keyed by type ("webhook", "slack", ...), and the
// Dispatcher that delivers events to them.
//
// The server builds the notifiers listed in ALERT_NOTIFICATIONS with Build
// and hands them to a Dispatcher. Each Dispatcher.Send runs detached from the
// caller's context, so an HTTP request that ends right after raising an alert
// does not cancel the delivery. It retries network errors and 5xx and 429
// responses until a per-send deadline.
//
// A notifier type is a package that calls Register from init and parses its
// own JSON config entry with DecodeConfig. The package notifiers/all
// blank-imports every built-in type; a third-party type is added by one more
// blank import in the program that builds the notifiers. The helpers here
// (PostJSON, Summary, Details, ValidateURL) exist so that such packages need
// to import nothing of the project besides this package and the model.
package notifiers
