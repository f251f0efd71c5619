package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// unmatchedRoute labels requests no route matched (404 and 405), so probes
// of random URLs share one series.
const unmatchedRoute = "unmatched"

var httpLabels = []string{"method", "route", "status"}

// observeHTTP counts and times every request by method, route pattern
// (gin's FullPath: /api/contracts/:id, never the raw URL, whose ids would
// make a series per contract) and status. It goes before recoverPanics so a
// request that panicked is counted with the 500 it got.
func observeHTTP(reg prometheus.Registerer) gin.HandlerFunc {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "contractd_http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status.",
	}, httpLabels)
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "contractd_http_request_duration_seconds",
		Help:    "Time taken to answer HTTP requests, by method, route pattern and status.",
		Buckets: prometheus.DefBuckets,
	}, httpLabels)
	reg.MustRegister(requests, duration)

	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = unmatchedRoute
		}
		labels := []string{methodLabel(sentMethod(c)), route, strconv.Itoa(c.Writer.Status())}
		requests.WithLabelValues(labels...).Inc()
		duration.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
	}
}

// methodLabel bounds the method label: a client may send any token as a
// method, and each would otherwise become a series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}

// The budgets a request may be refused 429 for, as rateLimited labels them.
const (
	budgetAPIKey       = "api_key"       // a key's requests (Deps.RateLimit)
	budgetAuthFailures = "auth_failures" // an address's failed authentications (Deps.AuthFailureRate)
	budgetSignedBodies = "signed_bodies" // an address's signed bodies read at once (MaxSignedBodiesPerAddress)
)

// newRateLimited counts the requests answered 429 by budget: the status
// alone does not say whether a key was busy, an address kept failing to
// authenticate, or it sent too many signed bodies at once. Every series
// exists from the start, at zero.
func newRateLimited(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "contractd_http_rate_limited_total",
		Help: "Requests answered 429, by the budget they were over: api_key (a key's requests), auth_failures (an address's failed authentications) or signed_bodies (an address's signed request bodies being read at once).",
	}, []string{"budget"})
	reg.MustRegister(c)
	c.WithLabelValues(budgetAPIKey)
	c.WithLabelValues(budgetAuthFailures)
	c.WithLabelValues(budgetSignedBodies)
	return c
}
