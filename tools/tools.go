//go:build tools

// Package tools pins commands this repository builds from the module cache but
// never imports: the Temporal server and its SQL schema tool, which
// scripts/perf-temporal-postgres.sh builds to run a Postgres-backed Temporal.
// The build tag keeps it out of every normal build; `go mod tidy` still keeps
// their dependencies in go.mod and go.sum.
package tools

import (
	_ "go.temporal.io/server/cmd/server"
	_ "go.temporal.io/server/cmd/tools/sql"
)
