package api

import (
	"context"
	"database/sql/driver"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// failure is an error reduced to what any surface needs to render it. Err
// is the classified error, nil for a refusal by middleware (reject).
type failure struct {
	Status   int
	Kind     domain.Kind
	Message  string
	Problems []string
	Err      error
}

// surface is one API surface's error format. Every surface implements it,
// and every failure a surface answers goes through it: its middleware's
// refusals (authentication, roles, rate and size limits, panics) through
// reject, its handlers' errors through failAs, which classifies them first.
type surface interface {
	render(c *gin.Context, f failure)
}

// reject answers a request middleware refuses, in the surface's format.
func reject(c *gin.Context, sf surface, status int, message string) {
	sf.render(c, failure{Status: status, Message: message})
}

// failAs answers a handler's error in the surface's format.
func (s *server) failAs(c *gin.Context, sf surface, err error) {
	f := s.classify(c, err)
	f.Err = err
	sf.render(c, f)
}

var kindStatus = map[domain.Kind]int{
	domain.KindInvalid:       http.StatusBadRequest,
	domain.KindNotFound:      http.StatusNotFound,
	domain.KindForbidden:     http.StatusForbidden,
	domain.KindConflict:      http.StatusConflict,
	domain.KindUnprocessable: http.StatusUnprocessableEntity,
}

// classify maps an error from decoding, the domain, the store or Temporal to
// a status and a message safe to show a client. Unknown errors become a
// generic 500 and are logged, never shown.
func (s *server) classify(c *gin.Context, err error) failure {
	var (
		de      *domain.Error
		ve      *domain.ValidationError
		appErr  *temporal.ApplicationError
		tooBig  *http.MaxBytesError
		badBody *bodyError
		retry   *retryError
		busy    *store.BusyError
	)
	switch {
	case errors.As(err, &tooBig):
		return failure{Status: http.StatusRequestEntityTooLarge, Kind: domain.KindInvalid, Message: bodyTooLarge}
	case errors.As(err, &badBody):
		return failure{Status: http.StatusBadRequest, Kind: domain.KindInvalid, Message: badBody.Error()}
	case errors.Is(err, errBodyLate):
		return failure{Status: http.StatusRequestTimeout, Kind: domain.KindInvalid, Message: errBodyLate.Error()}
	case errors.As(err, &retry):
		s.Logger.Warn("request half done; the client is to retry it", "err", retry.cause, "requestId", c.GetString(requestIDKey))
		c.Header("Retry-After", "5")
		return failure{Status: http.StatusServiceUnavailable, Message: retry.msg}
	case errors.As(err, &busy):
		// A write that gave up waiting for a lock held by others, and
		// changed nothing: sent again once they are done, it goes through.
		s.Logger.Warn("request gave up waiting for a lock", "err", err, "requestId", c.GetString(requestIDKey), "route", c.FullPath())
		c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(busy.Waited.Seconds())))))
		return failure{Status: http.StatusServiceUnavailable, Message: busy.Error()}
	case isInternal(err):
		// A failure that can never succeed; its cause may quote SQL, so it
		// is logged, never shown.
		s.Logger.Error("request failed for good", "err", err, "requestId", c.GetString(requestIDKey), "route", c.FullPath())
		return failure{Status: http.StatusInternalServerError, Kind: domain.KindInternal, Message: internalFailure}
	case errors.As(err, &ve):
		return failure{Status: http.StatusBadRequest, Kind: domain.KindInvalid, Message: "the request is invalid", Problems: ve.Problems}
	case errors.As(err, &de):
		return failure{Status: kindStatus[de.Kind], Kind: de.Kind, Message: de.Error()}
	case errors.Is(err, store.ErrNotFound):
		return failure{Status: http.StatusNotFound, Kind: domain.KindNotFound, Message: "not found"}
	case errors.As(err, &appErr) && kindStatus[domain.Kind(appErr.Type())] != 0:
		// A business refusal raised inside a workflow's activity.
		return failure{Status: kindStatus[domain.Kind(appErr.Type())], Kind: domain.Kind(appErr.Type()), Message: appErr.Message()}
	case clientGone(c):
		// The client hung up, and the error (whatever form the SDK or the
		// driver gave it) followed from that. Nobody reads this answer, but
		// the access log and metrics should not count it as a server error.
		return failure{Status: statusClientClosedRequest, Message: "the client closed the request"}
	case isConcurrencyFailure(err):
		// Postgres undid the request's transaction to let a concurrent one
		// through; the same request again finds that one done.
		s.Logger.Warn("request undone by a concurrent one", "err", err, "requestId", c.GetString(requestIDKey), "route", c.FullPath())
		c.Header("Retry-After", "1")
		return failure{Status: http.StatusServiceUnavailable, Message: "the request ran into a concurrent one and was undone; retry it"}
	case isUnavailable(err):
		s.Logger.Warn("dependency unavailable", "err", err, "requestId", c.GetString(requestIDKey))
		c.Header("Retry-After", "5")
		return failure{Status: http.StatusServiceUnavailable, Message: "the service is temporarily unavailable; retry later"}
	default:
		s.Logger.Error("request failed", "err", err, "requestId", c.GetString(requestIDKey), "route", c.FullPath())
		return failure{Status: http.StatusInternalServerError, Message: "internal error"}
	}
}

// retryError is a request whose change is recorded but whose workflow could
// not be started: repeating the request starts it (and joins one that did
// start). msg says so to the client; cause is logged.
type retryError struct {
	msg   string
	cause error
}

func (e *retryError) Error() string { return e.msg + ": " + e.cause.Error() }
func (e *retryError) Unwrap() error { return e.cause }

// internalFailure answers a request that failed for good (domain.KindInternal).
const internalFailure = "internal error: the request could not be completed, and retrying it unchanged will not help"

// isInternal recognises a failure that can never succeed, whether a workflow
// reported it as an outcome or failed on it.
func isInternal(err error) bool {
	var appErr *temporal.ApplicationError
	return domain.KindOf(err) == domain.KindInternal || (errors.As(err, &appErr) && appErr.Type() == string(domain.KindInternal))
}

// statusClientClosedRequest is the de facto status (nginx's) for a request
// whose client went away before the answer.
const statusClientClosedRequest = 499

// isUnavailable recognises a dependency that is down or too slow (Temporal,
// or Postgres refusing connections or shutting down): the client should
// retry, so it gets 503 with Retry-After rather than a 500.
func isUnavailable(err error) bool {
	var (
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		notReady    *serviceerror.WorkflowNotReady
		exhausted   *serviceerror.ResourceExhausted
		timedOut    *temporal.TimeoutError
		netErr      *net.OpError
		pqErr       *pq.Error
	)
	switch {
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &notReady), errors.As(err, &exhausted):
		// Temporal cannot take the request now: the workflow's task is being
		// retried (after a worker crash, or while Temporal's own database is
		// slow), or the server sheds load. A retry later gets the answer.
		return true
	case errors.As(err, &timedOut):
		// The workflow the request waited for ran out of time, its step
		// held up (a lock another transaction kept, a database too slow).
		return true
	case errors.Is(err, driver.ErrBadConn), errors.As(err, &netErr):
		return true
	case errors.As(err, &pqErr):
		// Class 08 is a connection exception; 57P0x an administrator or crash shutdown.
		return pqErr.Code.Class() == "08" || strings.HasPrefix(string(pqErr.Code), "57P0")
	}
	return false
}

// isConcurrencyFailure recognises a transaction Postgres ended, undoing it,
// because of a concurrent one: a deadlock (40P01) or a serialization
// failure (40001). Workflows' activities are retried by Temporal; a request
// the API serves itself is answered 503, to be sent again. The store takes
// its locks in one order where it knows of a cycle; this covers the ones it
// does not.
func isConcurrencyFailure(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "40P01" || pqErr.Code == "40001")
}

// generalBody is the error format of the service's own endpoints (catalog,
// contracts, contract-actions, amendments, billing, webhooks).
type generalBody struct {
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Problems []string `json:"problems,omitempty"`
}

// general is the service's own surface.
type general struct{}

func (general) render(c *gin.Context, f failure) {
	c.JSON(f.Status, generalBody{Code: codeFor(f.Status), Message: f.Message, Problems: f.Problems})
}

func codeFor(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// fail renders err in the general format.
func (s *server) fail(c *gin.Context, err error) { s.failAs(c, general{}, err) }
