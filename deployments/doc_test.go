// Package deployments_test checks the deployment files in this directory
// with the tools that read them. docker-compose config checks the Compose
// file and systemd-analyze verify the units. The Grafana dashboard queries
// run on a real PostgreSQL, and the example environment files are checked
// against the programs' own settings lists.
package deployments_test
