// Package config holds the agent's settings: their defaults, how they are
// read from environment variables and matching command-line flags, and the
// validation that stops start-up with one message naming every bad setting.
//
// Each setting has an environment variable (SERVER_URL) and a flag
// (-server-url). A flag wins over its variable, and an empty variable counts
// as unset so that the default applies.
package config
