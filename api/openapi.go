package api

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
	"sigs.k8s.io/yaml"
)

// The OpenAPI document is written in YAML, which allows comments and merge
// keys, and served as JSON, which every tool reads.
//
//go:embed openapi/openapi.yaml
var openAPIYAML []byte

// openAPIJSON is converted once, as the package loads. The document is
// embedded and its tests convert it too, so a binary that built from a
// tested tree cannot fail here.
var openAPIJSON = func() []byte {
	doc, err := yaml.YAMLToJSON(openAPIYAML)
	if err != nil {
		panic("api/openapi/openapi.yaml: " + err.Error())
	}
	return doc
}()

// docsAssets is the reference page: plain HTML, CSS and JavaScript that
// render /openapi.json in the browser, shipped in the binary so the page
// works offline and loads nothing from elsewhere.
//
//go:embed openapi/docs
var docsAssets embed.FS

// docsPolicy lets the page load only its own files and fetch only from its
// own origin.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// serveOpenAPI serves the document, without authentication; gin redirects
// /docs to /docs/, where docsHandler serves its reference page.
func serveOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIJSON)
}

func docsHandler() http.Handler {
	files, err := fs.Sub(docsAssets, "openapi/docs")
	if err != nil {
		// fs.Sub fails only on a malformed directory name, and this one is a constant.
		panic(err)
	}
	serve := http.StripPrefix("/docs/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", docsPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		// Embedded files have no modification time, so make browsers revalidate
		// rather than keep an older release's page.
		h.Set("Cache-Control", "no-cache")
		serve.ServeHTTP(w, r)
	})
}
