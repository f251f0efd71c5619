package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
)

// A handler reads only the query parameters its route declares (reads): one
// it reads undeclared would take a repeated value's first unseen, so reading
// it fails loudly in any test of the route. A seed's surface ignores a
// parameter its route does not declare; the general surface refuses it
// before the handler.
func TestQueryParamIsOnlyForParametersTheRouteDeclares(t *testing.T) {
	r := gin.New()
	readB := func(c *gin.Context) { c.String(http.StatusOK, queryParam(c, "b")) }
	r.GET("/declared", reads(ddcmsSurface{}, "a"), func(c *gin.Context) { c.String(http.StatusOK, queryParam(c, "a")) })
	r.GET("/undeclared", reads(ddcmsSurface{}, "a"), readB)
	r.GET("/general", reads(general{}, "a"), readB)
	do := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	assert.Equal(t, "1", do("/declared?a=1&b=2&b=3").Body.String(), "an undeclared parameter is ignored, repeated or not")
	assert.Equal(t, http.StatusBadRequest, do("/declared?a=1&a=2").Code)
	assert.PanicsWithValue(t, `GET /undeclared reads query parameter "b" without declaring it on its route (reads)`, func() { do("/undeclared?b=1") })
	assert.Equal(t, http.StatusBadRequest, do("/general?b=1").Code)
}
