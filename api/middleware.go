package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/correlation"
	"github.com/contractd/contractd/internal/store"
)

const (
	principalKey = "principal"
	requestIDKey = "requestId"
	// traceHeader is the caller's correlation id (contract-actions seed); it is
	// echoed and recorded.
	traceHeader = "trace-id"
)

// requestID names the request, echoes the caller's trace id, and puts both
// in the request's context, from where they travel into workflows and the
// access log. A trace id beyond its input limits (too long, a control
// character, not UTF-8) is neither echoed nor kept: authenticate refuses the
// request with 400, and nothing of it reaches a response header or a log.
func (s *server) requestID(c *gin.Context) {
	id := uuid.NewString()
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	trace := c.GetHeader(traceHeader)
	if checkValue("header "+traceHeader, trace, headerLimits[traceHeader], queryDefault) != nil {
		trace = ""
	}
	if trace != "" {
		c.Header(traceHeader, trace)
	}
	c.Request = c.Request.WithContext(correlation.With(c.Request.Context(), correlation.IDs{RequestID: id, TraceID: trace}))
	c.Next()
}

// annotateSpan records the request's ids on its span: an operator holding
// the request id from a log line or the caller's trace-id finds the trace.
// A HEAD served as GET (headAsGet) is named and marked as the HEAD it was.
func annotateSpan(c *gin.Context) {
	ids := correlation.From(c.Request.Context())
	attrs := []attribute.KeyValue{attribute.String("contractd.request_id", ids.RequestID)}
	if ids.TraceID != "" {
		attrs = append(attrs, attribute.String("contractd.trace_id", ids.TraceID))
	}
	span := trace.SpanFromContext(c.Request.Context())
	if sent := sentMethod(c); sent != c.Request.Method {
		span.SetName(sent + " " + c.FullPath())
		attrs = append(attrs, attribute.String("http.request.method", sent)) // semconv's key, as otelgin sets it
	}
	span.SetAttributes(attrs...)
	c.Next()
}

func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	s.Logger.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", sentMethod(c)), slog.String("route", c.FullPath()),
		slog.Int("status", c.Writer.Status()), slog.Duration("latency", time.Since(start)),
		slog.String("client", c.ClientIP()), slog.String("requestId", c.GetString(requestIDKey)), slog.String("traceId", correlation.From(c.Request.Context()).TraceID))
}

// recoverPanics turns a panic into a plain 500: never a stack trace in a response.
func (s *server) recoverPanics(sf surface) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				s.Logger.Error("panic in handler", "panic", r, "requestId", c.GetString(requestIDKey))
				reject(c, sf, http.StatusInternalServerError, "internal error")
				c.Abort()
			}
		}()
		c.Next()
	}
}

const bodyTooLarge = "request body exceeds 1 MiB"

// limitBody caps what a handler can read of a body whose length was not
// declared up front, and how long the body may take to arrive
// (BodyReadTimeout): without a bound, a client sending a byte now and then
// would hold a connection and its goroutine for as long as it liked. The
// bound is the connection's read deadline, which net/http lifts itself once
// the body has been read to its end (it then reads ahead on the connection,
// without a deadline, to notice a client that goes): a change request
// waiting for its workflow's answer after that is not cut short.
func (s *server) limitBody(c *gin.Context) {
	if s.BodyReadTimeout > 0 && c.Request.Body != nil && c.Request.Body != http.NoBody {
		// Not every writer can (a test's recorder cannot); the body is then unbounded in time.
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(s.BodyReadTimeout))
	}
	// The capped body goes on a copy of the request: net/http decides what
	// to do with a body its handler left unread by its own request's body,
	// which must stay its own reader. A client still waiting to be told to
	// send it (`Expect: 100-continue`) then has its connection closed after
	// the answer; with the body replaced, net/http would read on for a body
	// the client was never asked for, until the deadline above.
	r := c.Request.WithContext(c.Request.Context())
	r.Body = http.MaxBytesReader(c.Writer, r.Body, MaxBodyBytes)
	c.Request = r
	c.Next()
}

// bodyReadProblem is the status and message a request whose body could not
// be read (err from readBody) is answered with; ok is false for any other
// error.
func bodyReadProblem(err error) (status int, message string, ok bool) {
	var (
		tooBig  *http.MaxBytesError
		badBody *bodyError
	)
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, bodyTooLarge, true
	case errors.Is(err, errBodyLate):
		return http.StatusRequestTimeout, errBodyLate.Error(), true
	case errors.As(err, &badBody):
		return http.StatusBadRequest, badBody.Error(), true
	}
	return 0, "", false
}

// bodySize is what a request is charged for its body (see requestCost): its
// declared length, or, for a body sent without one, its length as read
// ahead of its handler, which reads it again from memory. A declared body
// is not read before the charge, so a key over its budget is refused
// without it.
func bodySize(c *gin.Context) (int64, error) {
	if c.Request.ContentLength >= 0 || c.Request.Body == nil || c.Request.Body == http.NoBody {
		return max(c.Request.ContentLength, 0), nil
	}
	body, err := readBody(c)
	if err != nil {
		return 0, err
	}
	c.Request.Body = buffered(body)
	return int64(len(body)), nil
}

// presentedKey reads the API key from `Authorization: Bearer` or `apiKey`.
// A request that presents two different keys (the header twice, or both
// headers with other keys) is refused rather than read by its first: a proxy
// in front may have read, logged or checked another one than the API does.
func presentedKey(r *http.Request) (string, error) {
	var keys []string
	for _, h := range r.Header.Values("Authorization") {
		if scheme, key, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			keys = append(keys, strings.TrimSpace(key))
		}
	}
	for _, h := range r.Header.Values("apiKey") {
		keys = append(keys, strings.TrimSpace(h))
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == "" })
	slices.Sort(keys)
	keys = slices.Compact(keys)
	switch len(keys) {
	case 0:
		return "", nil
	case 1:
		return keys[0], nil
	}
	return "", refusal("the request presents more than one API key; send one")
}

// authenticate resolves the caller from their key, or their signature: 401
// when missing, unknown or wrong, 429 when the key is over its rate, which
// it charges by the body's size (bodySize), and 429 before any of that when
// the client's address has spent its budget of failed authentications
// (authFailures). It is
// every key-protected surface's entry, so it also refuses a declared body
// over MaxBodyBytes with 413 in the surface's format: a handler that checks
// its path first, or never reads its body, would not notice it otherwise.
// For the same reason it holds path segments, query parameters and data
// headers to their input limits (requestProblem): 400 in the surface's format.
// Last, it reads the whole body (readAhead), so no route decides or changes
// anything before its body is there: one that does not arrive within
// BodyReadTimeout is a 408 in the surface's format. A signed request's body
// is read once its key is found, to check its signature (signedPrincipal),
// when it finds a place among the signed bodies being read: 429, or 503
// for all addresses, when it finds none in time (signedBodies).
func (s *server) authenticate(sf surface) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > MaxBodyBytes {
			reject(c, sf, http.StatusRequestEntityTooLarge, bodyTooLarge)
			c.Abort()
			return
		}
		// Before the credential is looked up: an address whose failures
		// spent its budget costs the database nothing.
		a := attemptOf(c)
		if !s.withinAuthBudget(c, &a, sf) {
			c.Abort()
			return
		}
		p, err := s.checkCredential(c, a)
		var (
			refused refusal
			busy    *bodiesBusy
		)
		status, message, unreadable := bodyReadProblem(err) // a signed request's body is read to check it
		switch {
		case errors.As(err, &refused):
			reject(c, sf, http.StatusUnauthorized, refused.Error())
		case unreadable:
			reject(c, sf, status, message)
		case errors.As(err, &busy):
			s.refuseBusyBodies(c, sf, busy)
		case err != nil && clientGone(c):
			// Nobody reads this answer; the log and metrics must not count
			// it as the service's failure.
			reject(c, sf, statusClientClosedRequest, "the client closed the request")
		case err != nil:
			s.Logger.Error("authenticate", "err", err)
			c.Header("Retry-After", "5")
			reject(c, sf, http.StatusServiceUnavailable, "the service cannot verify keys right now; retry later")
		}
		if err != nil {
			c.Abort()
			return
		}
		c.Set(principalKey, p)
		size, err := bodySize(c)
		if err != nil {
			rejectUnreadBody(c, sf, err)
			return
		}
		// Limited here, right after the key is known, so that no
		// authenticated route can be registered without it.
		if !s.withinRate(c, p.KeyID, size, sf) {
			c.Abort()
			return
		}
		if err := requestProblem(c); err != nil {
			reject(c, sf, http.StatusBadRequest, err.Error())
			c.Abort()
			return
		}
		// The body is all there before the route decides or changes anything.
		if err := readAhead(c); err != nil {
			rejectUnreadBody(c, sf, err)
			return
		}
		c.Next()
	}
}

// rejectUnreadBody refuses a request whose body could not be read: 408 (it
// did not arrive within BodyReadTimeout), 413 or 400.
func rejectUnreadBody(c *gin.Context, sf surface, err error) {
	status, message, known := bodyReadProblem(err)
	if !known {
		status, message = http.StatusBadRequest, "could not read the request body"
	}
	reject(c, sf, status, message)
	c.Abort()
}

// refusal is a credential refused with 401; its text is shown to the client.
type refusal string

func (r refusal) Error() string { return string(r) }

// caller is the principal of a signed request's key id, lookedUp called
// once its key is found (signedPrincipal), or of a presented key. A
// request presents one credential: a signature, or a key (see
// presentedKey).
func (s *server) caller(c *gin.Context, lookedUp func()) (auth.Principal, error) {
	key, err := presentedKey(c.Request)
	if err != nil {
		return auth.Principal{}, err
	}
	if id := c.GetHeader(keyIDHeader); id != "" {
		h := c.Request.Header
		if key != "" || len(h.Values(keyIDHeader)) > 1 || len(h.Values(signatureHeader)) > 1 {
			return auth.Principal{}, refusal("a signed request presents one " + keyIDHeader + " and one " + signatureHeader + ", and no API key")
		}
		return s.signedPrincipal(c, id, lookedUp)
	}
	if key == "" {
		return auth.Principal{}, refusal("an API key is required (Authorization: Bearer <key> or apiKey: <key>)")
	}
	p, _, err := s.lookups.lookup(c.Request.Context(), "key\x00"+key, func(ctx context.Context) (auth.Principal, []byte, error) {
		p, err := s.Store.Principal(ctx, key)
		return p, nil, err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return auth.Principal{}, refusal("the API key is not valid")
	case err == nil && p.Source == auth.SourceHMAC:
		// A signing key sent in the clear would bypass what signing protects.
		return auth.Principal{}, refusal("this key signs its requests: send " + keyIDHeader + " and " + signatureHeader + " instead")
	}
	return p, err
}

func requireRole(role auth.Role, sf surface) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Has(role) {
			reject(c, sf, http.StatusForbidden, "this key lacks the "+string(role)+" role")
			c.Abort()
			return
		}
		c.Next()
	}
}

// tenantWide keeps customer keys off a route about the tenant as a whole (its
// catalog, its termination definitions) rather than about contracts: a
// customer key acts only on its own account's contracts. Routes for approvers
// and operators need no such guard, since a customer key is only ever a
// submitter.
func tenantWide(sf surface) gin.HandlerFunc {
	return staffOnly(sf, "a customer key acts only on its own account's contracts")
}

// staffOnly refuses a customer key with 403 and message before anything is
// looked up, so the refusal reveals nothing about what the request names:
// the route is the business's staff's alone (tenantWide, the DDCMS payment
// schedule).
func staffOnly(sf surface, message string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if principal(c).Source == auth.SourceCustomer {
			reject(c, sf, http.StatusForbidden, message)
			c.Abort()
			return
		}
		c.Next()
	}
}

// scope is what the caller's lookups may see: its tenant's contracts and,
// for a customer key, only its own account's. Every read of a contract or an
// amendment goes through it, and every change starts from such a read.
func scope(c *gin.Context) store.Scope {
	p := principal(c)
	return store.Scope{TenantID: p.TenantID, AccountNumber: p.AccountNumber}
}

func principal(c *gin.Context) auth.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(auth.Principal)
	return pr
}
