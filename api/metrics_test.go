package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
	"github.com/contractd/contractd/internal/metrics"
)

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	reg := metrics.NewRegistry()
	router := api.NewRouter(api.Deps{Logger: quiet, Metrics: reg})
	send := func(method, path string) {
		router.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	send("GET", "/healthz")
	send("GET", "/api/contracts/CT-0000000001") // no key: 401
	send("GET", "/api/contracts/CT-0000000002")
	send("GET", "/no/such/page")
	send("BREW", "/healthz")

	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "text/plain")
	body := rec.Body.String()

	for _, series := range []string{
		`contractd_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`contractd_http_requests_total{method="GET",route="/api/contracts/:id",status="401"} 2`,
		`contractd_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`contractd_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`contractd_http_request_duration_seconds_count{method="GET",route="/api/contracts/:id",status="401"} 2`,
		`go_goroutines `,
	} {
		assert.Contains(t, body, series)
	}
	assert.NotContains(t, body, "CT-0000000001", "raw URLs never become labels")
	assert.NotContains(t, body, "BREW", "unknown methods share one label")
}
