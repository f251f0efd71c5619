// Package ui serves the approvers' web inbox at /ui/: one static page, a
// small vanilla JavaScript module and a stylesheet. They are embedded so the
// binary alone serves them, offline, with no build step besides go build.
// The page reads and decides amendments through the JSON API only.
package ui

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Prefix is where the inbox is served.
const Prefix = "/ui/"

//go:embed static
var static embed.FS

// contentSecurityPolicy lets the page load only its own files and talk only
// to its own origin. form-action 'none' means the sign-in form can never be
// submitted natively, so the key cannot end up in a URL even without script.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the inbox's files for paths under Prefix.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		// Only a malformed directory name fails, and that one is a constant.
		panic(err)
	}
	serve := http.StripPrefix(Prefix, http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Embedded files have no modification time to revalidate against, so
		// without this a browser could keep running an older release's script.
		h.Set("Cache-Control", "no-cache")
		serve.ServeHTTP(w, r)
	})
}

// Register mounts Handler at Prefix on a Gin router; the API redirects
// "/ui" to "/ui/", and answers HEAD as GET on every route.
func Register(r gin.IRoutes) {
	r.GET(Prefix+"*file", gin.WrapH(Handler()))
}
