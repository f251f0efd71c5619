package api_test

import (
	"encoding/json"
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
