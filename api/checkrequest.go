package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

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
// make the change. requestProblem runs in the group's middleware, before a
// route's own handlers, and bounds every parameter's values on every route.
//
// On the general surface (strictQuery) it refuses with 400 too, before the
// handler reads anything, a query parameter the route does not read, naming
// it and those the route reads, and a filter given empty: a misspelt
// filter (?state=REVIEW for ?status=REVIEW, ?acountNumber=) or an empty one
// (?status=) was ignored, and the listing answered everything. Its routes
// must declare, even reading none (reads(gs)): declaringGroup sees to it.
// The seeds' surfaces ignore a parameter their route does not read,
// repeated or not, as before: their documents say nothing of one, and
// their clients send what the vendors' APIs took.
func reads(sf surface, names ...string) gin.HandlerFunc {
	_, strict := sf.(strictQuery)
	return func(c *gin.Context) {
		if problem := queryProblem(c, names, strict); problem != "" {
			reject(c, sf, http.StatusBadRequest, problem)
			c.Abort()
			return
		}
		c.Set(readsKey, names)
		c.Next()
	}
}

// strictQuery is a surface whose routes refuse a query parameter they do not
// read, and an empty filter (reads): the general surface, the service's own.
type strictQuery interface{ refusesUnreadQuery() }

func (general) refusesUnreadQuery() {}

// pagingParams only say how a listing is paged, never which items it
// holds: on the general surface an empty one is taken as left out, where an
// empty filter is refused. A client looping on pageToken = nextPageToken
// sends ?pageToken= for its first page, and APIs in Google's style
// (AIP-158, whose unset page token is the empty string) read that as the
// first page; an unset size sent empty likewise means the default. Taken as
// left out, each gets what it asked for and no item is lost or added, so
// refusing them would break such clients for no one's safety.
var pagingParams = []string{"pageToken", "pageSize"}

// queryProblem is why the request's query string is refused on a route
// reading names, "" when it is not: a parameter the route does not read
// (strict surfaces only), then one given more than once, then an empty filter
// (strict surfaces only).
func queryProblem(c *gin.Context, names []string, strict bool) string {
	query := c.Request.URL.Query()
	if strict {
		unread := slices.DeleteFunc(sortedKeys(query), func(n string) bool { return slices.Contains(names, n) })
		if len(unread) > 0 {
			return unreadMessage(c, unread, names)
		}
	}
	for _, name := range names {
		switch values := query[name]; {
		case len(values) > 1:
			return fmt.Sprintf("query parameter %s is given %d times; give it once", name, len(values))
		case strict && len(values) == 1 && values[0] == "" && !slices.Contains(pagingParams, name):
			return fmt.Sprintf("query parameter %s is empty: give a value or leave it out", name)
		}
	}
	return ""
}

// unreadNamed is how many of the query parameters a route does not read
// its refusal names: a query string of a MiB could hold thousands, and the
// answer would echo them all.
const unreadNamed = 5

// unreadMessage names the query parameters a route does not read (the
// first unreadNamed of them) and those it does.
func unreadMessage(c *gin.Context, unread, names []string) string {
	quoted := make([]string, 0, unreadNamed+1)
	for _, n := range unread[:min(len(unread), unreadNamed)] {
		quoted = append(quoted, strconv.Quote(n))
	}
	if more := len(unread) - unreadNamed; more > 0 {
		quoted = append(quoted, fmt.Sprintf("and %d more", more))
	}
	what := "unknown query parameter "
	if len(unread) > 1 {
		what = "unknown query parameters "
	}
	known := "no query parameters"
	if len(names) > 0 {
		known = strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s%s: %s %s reads %s", what, strings.Join(quoted, ", "), c.Request.Method, c.FullPath(), known)
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

// declaringGroup registers routes that must each declare the query
// parameters they read (reads): the general surface's, which refuse any
// other. A route whose line has no reads would otherwise take every
// parameter as the seeds' routes do; instead it answers every request 500
// (declared), so a route added without one fails its first test, and
// TestInputEveryGeneralRouteRefusesAQueryParameterItDoesNotRead sends
// one to every route.
type declaringGroup struct{ group *gin.RouterGroup }

func (d declaringGroup) GET(path string, h ...gin.HandlerFunc)  { d.handle(http.MethodGet, path, h) }
func (d declaringGroup) POST(path string, h ...gin.HandlerFunc) { d.handle(http.MethodPost, path, h) }
func (d declaringGroup) PUT(path string, h ...gin.HandlerFunc)  { d.handle(http.MethodPut, path, h) }
func (d declaringGroup) DELETE(path string, h ...gin.HandlerFunc) {
	d.handle(http.MethodDelete, path, h)
}

// handle runs declared last before the route's own handler, after its
// guards and its reads.
func (d declaringGroup) handle(method, path string, h []gin.HandlerFunc) {
	last := len(h) - 1
	d.group.Handle(method, path, append(slices.Clone(h[:last]), declared, h[last])...)
}

// declared panics (a 500 through recoverPanics) on a route that did not
// declare the query parameters it reads.
func declared(c *gin.Context) {
	if _, ok := c.Get(readsKey); !ok {
		panic(fmt.Sprintf("%s %s does not declare the query parameters it reads: add reads(gs, ...) to its line of the route table, reads(gs) if it reads none", c.Request.Method, c.FullPath()))
	}
}
