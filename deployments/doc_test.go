// Package deployments_test checks the deployment files in this directory
// with the tools that read them: docker-compose config for the Compose
// file, systemd-analyze verify for the units, a real PostgreSQL for the
// Grafana dashboard queries, and the server's own settings list for the
// example environment files.
package deployments_test
