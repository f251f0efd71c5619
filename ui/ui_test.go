package ui_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/api"
)

// The router serves the UI without touching its dependencies, so none are given.
func get(t *testing.T, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	api.NewRouter(api.Deps{}).ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestRouterServesTheEmbeddedUI(t *testing.T) {
	page := get(t, http.MethodGet, "/ui/")
	require.Equal(t, http.StatusOK, page.Code)
	assert.Equal(t, "text/html; charset=utf-8", page.Header().Get("Content-Type"))
	assert.Contains(t, page.Body.String(), `<script type="module" src="app.js"></script>`)
	csp := page.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.Contains(t, csp, "form-action 'none'")
	assert.Equal(t, "no-referrer", page.Header().Get("Referrer-Policy"))
	assert.Equal(t, "nosniff", page.Header().Get("X-Content-Type-Options"))

	for path, contentType := range map[string]string{
		"/ui/app.js":  "text/javascript; charset=utf-8",
		"/ui/app.css": "text/css; charset=utf-8",
	} {
		rec := get(t, http.MethodGet, path)
		require.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, contentType, rec.Header().Get("Content-Type"), path)
		assert.NotEmpty(t, rec.Body.String(), path)
	}

	assert.Equal(t, http.StatusOK, get(t, http.MethodHead, "/ui/app.js").Code)
	assert.Equal(t, http.StatusNotFound, get(t, http.MethodGet, "/ui/missing.js").Code)
	redirect := get(t, http.MethodGet, "/ui")
	assert.Equal(t, http.StatusMovedPermanently, redirect.Code)
	assert.Equal(t, "/ui/", redirect.Header().Get("Location"))
}
