package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

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

// errorRenderer writes an error in one surface's own format.
type errorRenderer func(c *gin.Context, status int, message string)

// requestID names the request, echoes the caller's trace id, and puts both
// in the request's context, from where they travel into workflows.
func (s *server) requestID(c *gin.Context) {
	id := uuid.NewString()
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	trace := c.GetHeader(traceHeader)
	if trace != "" {
		c.Header(traceHeader, trace)
	}
	c.Request = c.Request.WithContext(correlation.With(c.Request.Context(), correlation.IDs{RequestID: id, TraceID: trace}))
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
		slog.String("method", c.Request.Method), slog.String("route", c.FullPath()),
		slog.Int("status", c.Writer.Status()), slog.Duration("latency", time.Since(start)),
		slog.String("requestId", c.GetString(requestIDKey)), slog.String("traceId", c.GetHeader(traceHeader)))
}

// recoverPanics turns a panic into a plain 500: never a stack trace in a response.
func (s *server) recoverPanics(render errorRenderer) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				s.Logger.Error("panic in handler", "panic", r, "requestId", c.GetString(requestIDKey))
				render(c, http.StatusInternalServerError, "internal error")
				c.Abort()
			}
		}()
		c.Next()
	}
}

func limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	c.Next()
}

// presentedKey reads the API key from `Authorization: Bearer` or `apiKey`.
func presentedKey(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, key, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(key)
		}
	}
	return strings.TrimSpace(r.Header.Get("apiKey"))
}

// authenticate resolves the caller from their key: 401 when missing or unknown.
func (s *server) authenticate(render errorRenderer) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := presentedKey(c.Request)
		if key == "" {
			render(c, http.StatusUnauthorized, "an API key is required (Authorization: Bearer <key> or apiKey: <key>)")
			c.Abort()
			return
		}
		p, err := s.Store.Principal(c.Request.Context(), key)
		if errors.Is(err, store.ErrNotFound) {
			render(c, http.StatusUnauthorized, "the API key is not valid")
			c.Abort()
			return
		}
		if err != nil {
			s.Logger.Error("authenticate", "err", err)
			render(c, http.StatusServiceUnavailable, "the service cannot verify keys right now; retry later")
			c.Abort()
			return
		}
		c.Set(principalKey, p)
		c.Next()
	}
}

func requireRole(role auth.Role, render errorRenderer) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Has(role) {
			render(c, http.StatusForbidden, "this key lacks the "+string(role)+" role")
			c.Abort()
			return
		}
		c.Next()
	}
}

func principal(c *gin.Context) auth.Principal {
	p, _ := c.Get(principalKey)
	pr, _ := p.(auth.Principal)
	return pr
}
