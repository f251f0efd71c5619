package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
)

// requestProblem holds a request's path segments, query parameters and data
// headers to their limits (paramLimits, queryLimits, headerLimits) and
// returns the first that breaks one. authenticate refuses it with 400 in the
// surface's format before any handler reads it: such a value never reaches
// Postgres (which refuses NUL outright) nor a workflow.
//
// A query string that does not parse (a bad %-escape, a ";") is refused
// whole: Go's parser drops the pair it cannot read and keeps the rest, so
// "?preview=true%zz" would otherwise be a change made, not a preview.
func requestProblem(c *gin.Context) error {
	for _, p := range c.Params {
		if err := checkValue("path segment "+p.Key, p.Value, paramLimits[p.Key], ident(maxID)); err != nil {
			return err
		}
	}
	query, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("the query string is malformed: %w", err)
	}
	// In order, so the same request is refused for the same reason.
	for _, name := range sortedKeys(query) {
		if err := checkValue("query parameter", name, ident(maxID), queryDefault); err != nil {
			return err
		}
		for _, v := range query[name] {
			if err := checkValue("query parameter "+name, v, queryLimits[name], queryDefault); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedKeys(headerLimits) {
		if v := c.GetHeader(name); v != "" {
			if err := checkValue("header "+name, v, headerLimits[name], queryDefault); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkValue holds one text value to lim, or to fallback when lim is unset.
func checkValue(what, v string, lim, fallback limit) error {
	if err := checkText(what, v); err != nil {
		return err
	}
	switch lim.Kind {
	case "":
		lim = fallback
	case kindDate:
		// A date is YYYY-MM-DD, within its years.
		return checkDate(what, v, lim.Instant)
	}
	return checkBounded(what, v, lim)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// readsKey holds, on a request's context, the query parameters its route
// reads (reads).
const readsKey = "queryReads"

// reads declares, on a route's line of the route table, the query
// parameters its handler reads, and refuses one of them given more than
// once with 400 in the surface's format: a handler reads the first value,
// so ?type=a&type=b would filter by a alone and ?preview=false&preview=true
// make the change. A parameter the route does not read is ignored, repeated
// or not, as on a route that reads none. requestProblem runs in the
// group's middleware, before a route's own handlers, and bounds every
// parameter's values on every route.
func reads(sf surface, names ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		query := c.Request.URL.Query()
		for _, name := range names {
			if n := len(query[name]); n > 1 {
				reject(c, sf, http.StatusBadRequest, fmt.Sprintf("query parameter %s is given %d times; give it once", name, n))
				c.Abort()
				return
			}
		}
		c.Set(readsKey, names)
		c.Next()
	}
}

// queryParam is a query parameter's value, for a handler whose route
// declares it reads it (reads). Reading one it does not declare panics (a
// 500 through recoverPanics): a programming error that any test of the
// route finds, where a missing declaration would otherwise let the
// parameter's repeats through unseen.
func queryParam(c *gin.Context, name string) string {
	if !slices.Contains(c.GetStringSlice(readsKey), name) {
		panic(fmt.Sprintf("%s %s reads query parameter %q without declaring it on its route (reads)", c.Request.Method, c.FullPath(), name))
	}
	return c.Query(name)
}
