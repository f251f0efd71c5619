// Package metrics gives a process its Prometheus registry and /metrics
// handler, and carries the Temporal SDK's metrics (worker, client, and the
// counters workflows record through the SDK) into that registry.
package metrics

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry holding the Go runtime and process
// metrics; the HTTP API and the Temporal SDK add theirs to it. A registry
// of its own, rather than Prometheus's global one, keeps tests and
// processes from sharing counters.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in the Prometheus exposition format. A metric that
// cannot be gathered is logged and left out rather than failing the whole
// scrape, and counted in promhttp_metric_handler_errors_total.
func Handler(reg *prometheus.Registry, logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
	})
}
