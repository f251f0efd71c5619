package api

import (
	"fmt"
	"maps"
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
// A parameter the API reads given more than once is refused too.
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
		// A parameter the API reads takes one value: handlers read the
		// first, so ?type=a&type=b would filter by a alone, and
		// ?preview=false&preview=true make the change.
		if _, read := queryLimits[name]; read && len(query[name]) > 1 {
			return fmt.Errorf("query parameter %s is given %d times; give it once", name, len(query[name]))
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
