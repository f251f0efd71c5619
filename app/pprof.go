package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
)

// startProfiling serves Go's profiler on addr (PPROF_ADDR) until ctx ends;
// off when addr is empty. It has its own listener so the profiler is never
// reachable through the API's port.
func startProfiling(ctx context.Context, addr string, logger *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	go func() {
		if err := serveHTTP(ctx, addr, mux, logger); err != nil {
			logger.Error("profiler stopped", "addr", addr, "err", err)
		}
	}()
}
