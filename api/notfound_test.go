package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
)

// A path no route has is a 404 in its surface's format, never gin's HTML
// redirect to another spelling of it: a probe's GET /api/catalog/ got a 301
// with an HTML body, and a POST with a trailing slash a 307. The bare
// "/docs" and "/ui" still send browsers on to their pages; a file below them
// that does not exist is the file server's plain 404, those being HTML pages.
func TestUnknownPathsAnswerInTheSurfacesFormatWithoutRedirects(t *testing.T) {
	router := api.NewRouter(api.Deps{Logger: quiet})
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
		return rec
	}
	for _, tc := range []struct {
		method, path, field string
	}{
		{"GET", "/api/catalog/", "code"},
		{"PUT", "/api/catalog/", "code"},
		{"GET", "/api/contracts/", "code"},
		{"GET", "/api//catalog", "code"},
		{"GET", "/API/catalog", "code"},
		{"GET", "/api/nothing", "code"},
		{"POST", "/api/contract-actions/", "code"},
		{"POST", "/api/selfService/contract/", "status"},
		{"GET", "/nothing", "code"},
	} {
		rec := do(tc.method, tc.path)
		require.Equal(t, http.StatusNotFound, rec.Code, "%s %s: %s", tc.method, tc.path, rec.Body)
		assert.Empty(t, rec.Header().Get("Location"), "%s %s", tc.method, tc.path)
		assert.Contains(t, rec.Header().Get("Content-Type"), "application/json", "%s %s", tc.method, tc.path)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "%s %s: %s", tc.method, tc.path, rec.Body)
		assert.Contains(t, body, tc.field, "%s %s: %s", tc.method, tc.path, rec.Body)
	}

	for _, page := range []string{"/docs", "/ui"} {
		rec := do("GET", page)
		assert.Equal(t, http.StatusMovedPermanently, rec.Code, page)
		assert.Equal(t, page+"/", rec.Header().Get("Location"), page)
		assert.Equal(t, http.StatusOK, do("GET", page+"/").Code, page)
		missing := do("GET", page+"/nothing.js")
		assert.Equal(t, http.StatusNotFound, missing.Code, page)
		assert.Contains(t, missing.Header().Get("Content-Type"), "text/plain", page)
		post := do("POST", page)
		assert.Equal(t, http.StatusNotFound, post.Code, page)
		assert.Contains(t, post.Header().Get("Content-Type"), "application/json", page)
	}
}

// A path no route has below a seed's API version answers in that seed's
// format, not only below the prefix its routes share: a probe's
// GET /api/v5/Contract/Nope was the service's general JSON error, where a
// v5 client reads {trackingId, message} (and the X-Tracking-Id header).
func TestUnknownPathsBelowASeedsVersionAnswerInItsFormat(t *testing.T) {
	router := api.NewRouter(api.Deps{Logger: quiet})
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("{}")))
		return rec
	}
	for _, path := range []string{"/api/v5", "/api/v5/", "/api/v5/Contract", "/api/v5/Contract/Nope", "/api/v5/Contract/Termination/1/Nope"} {
		rec := do("GET", path)
		require.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", path, rec.Body)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "%s: %s", path, rec.Body)
		assert.NotContains(t, body, "code", "%s: %s", path, rec.Body)
		assert.Equal(t, "no such endpoint", body["message"], path)
		assert.NotEmpty(t, body["trackingId"], path)
		assert.Equal(t, body["trackingId"], rec.Header().Get("X-Tracking-Id"), path)
	}
	// DDCMS answers in plain text.
	for _, path := range []string{"/api/v3", "/api/v3/Nope", "/api/v3/client/DEMO/Nope", "/api/v3/client/DEMO/contract/0f8fad5b-d9cb-469f-a165-70867728950e/nope"} {
		rec := do("POST", path)
		require.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", path, rec.Body)
		assert.Contains(t, rec.Header().Get("Content-Type"), "text/plain", path)
		assert.Equal(t, "no such endpoint", rec.Body.String(), path)
	}
	// Self-service and crossgrade: their refusals' JSON.
	for _, tc := range []struct{ method, path, field string }{
		{"POST", "/api/selfService", "errorMessage"},
		{"POST", "/api/selfService/Nope", "errorMessage"},
		{"GET", "/api/customers/nope", "faultCode"},
		{"POST", "/api/customers/c/contracts/r/nope", "faultCode"},
	} {
		rec := do(tc.method, tc.path)
		require.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", tc.path, rec.Body)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "%s: %s", tc.path, rec.Body)
		assert.Contains(t, body, tc.field, "%s: %s", tc.path, rec.Body)
		assert.NotContains(t, body, "code", "%s: %s", tc.path, rec.Body)
	}
	// A version the service has no seed for is the service's own.
	rec := do("GET", "/api/v4/Contract/Nope")
	assert.Contains(t, rec.Body.String(), `"code"`)
}

// HEAD answers as GET does, without a body, wherever GET serves the docs
// and UI pages or sends a browser on to them, and on the liveness probe
// and the API document: HEAD /docs/ was a 405, though GET /docs/ is the
// page (and HEAD /ui/ was already answered), and so were HEAD /healthz and
// /openapi.json, which load balancers probe with (/readyz: foundation_test).
// Through a server, as a client sees it: net/http drops whatever body a
// handler writes to a HEAD.
func TestProbesDocsAndUIPagesAnswerHEADAsGET(t *testing.T) {
	srv := httptest.NewServer(api.NewRouter(api.Deps{Logger: quiet}))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string) *http.Response {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	for _, path := range []string{"/healthz", "/openapi.json", "/docs", "/docs/", "/docs/docs.js", "/docs/nothing.js", "/ui", "/ui/", "/ui/app.js"} {
		get, head := do(http.MethodGet, path), do(http.MethodHead, path)
		assert.Equal(t, get.StatusCode, head.StatusCode, path)
		body, err := io.ReadAll(head.Body)
		require.NoError(t, err)
		assert.Empty(t, body, "%s: a HEAD has no body", path)
		for _, h := range []string{"Content-Type", "Location", "Content-Security-Policy"} {
			assert.Equal(t, get.Header.Get(h), head.Header.Get(h), "%s: %s", path, h)
		}
		if get.StatusCode == http.StatusOK {
			// A redirect's body is net/http's note for a GET alone.
			assert.Equal(t, get.ContentLength, head.ContentLength, "%s: the page's length", path)
		}
	}
}
