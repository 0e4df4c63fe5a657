package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Register mounts the pages on mux: GET / (landing page), GET /join (the
// patient page; the link token travels in the URL fragment and never
// reaches the server), GET /call?visit=<id> (the staff call page), GET
// /guest (a guest's page; the token in the fragment, as for /join), GET
// /schedule, GET /console, GET /admin (the admin's page) and GET /static/
// (assets).
func Register(mux *http.ServeMux) {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	mux.Handle("GET /{$}", page(files, "index.html"))
	mux.Handle("GET /join", page(files, "join.html"))
	mux.Handle("GET /call", page(files, "call.html"))
	mux.Handle("GET /guest", page(files, "guest.html"))
	mux.Handle("GET /schedule", page(files, "schedule.html"))
	mux.Handle("GET /console", page(files, "console.html"))
	mux.Handle("GET /admin", page(files, "admin.html"))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(files)))
}

// page serves one embedded HTML file.
func page(files fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFileFS(w, r, files, name)
	})
}
