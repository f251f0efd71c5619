package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With -url a,b the requests go to both APIs in turn, as behind a load
// balancer in front of scaled-out API processes.
func TestRequestsTakeTheURLsInTurn(t *testing.T) {
	var hits [2]atomic.Int64
	var urls []string
	for i := range hits {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits[i].Add(1) }))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	c := newClient(options{baseURL: urls[0] + "," + urls[1]})
	for range 6 {
		a, err := c.do(context.Background(), "GET", "/readyz", "key", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, a.status)
	}
	assert.Equal(t, int64(3), hits[0].Load())
	assert.Equal(t, int64(3), hits[1].Load())
}
