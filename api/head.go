package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
)

// headAsGet is the service's router, answering HEAD wherever GET is
// answered, as HTTP asks of every resource that has a GET (RFC 9110,
// 9.3.2): the engine serves it as the GET it stands for, and net/http,
// which holds the request as it came, sends the answer's status and
// headers without the body the handler writes. Routed as itself, HEAD
// reached only the few routes that named it and was a 405 on every other,
// each API read among them. The method as sent is kept (sentMethod) for
// what must see it: a signature covers it, and the log and the metrics
// name it. The engine's Routes are its own.
type headAsGet struct{ *gin.Engine }

func (r headAsGet) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodHead {
		r.Engine.ServeHTTP(w, req)
		return
	}
	get := req.WithContext(context.WithValue(req.Context(), sentMethodKey{}, req.Method))
	get.Method = http.MethodGet
	r.Engine.ServeHTTP(w, get)
}

type sentMethodKey struct{}

// sentMethod is the method c's request was sent with: HEAD for one served
// as GET (headAsGet).
func sentMethod(c *gin.Context) string {
	if m, ok := c.Request.Context().Value(sentMethodKey{}).(string); ok {
		return m
	}
	return c.Request.Method
}
