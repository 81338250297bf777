// Package web holds sagegate's HTML templates and static files, embedded in
// the binary so the gateway needs no files on disk and no external CDN.
package web

import (
	"embed"
	"html/template"
	"io/fs"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Templates parses every page template with the shared layout.
func Templates() (*template.Template, error) {
	return template.New("").ParseFS(templateFS, "templates/*.html")
}

// Static is the tree served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		// The directory is embedded at build time; Sub cannot fail on it.
		panic(err)
	}
	return sub
}
