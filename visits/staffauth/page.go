package staffauth

import (
	"html/template"
	"net/http"
)

// Messages shown to the browser: generic, never a query parameter.
const (
	msgFailed  = "Sign-in failed. Please go back and sign in again."
	msgMFA     = "Sign-in needs multi-factor authentication. Sign in again with a second factor."
	msgTooMany = "Too many sign-in attempts. Please wait a minute and try again."
)

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in</title></head>
<body><main><h1>Sign-in</h1><p>{{.}}</p><p><a href="/auth/login">Sign in</a></p></main></body></html>
`))

// errorPage writes a small HTML page with one of the fixed messages.
func errorPage(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	noStore(w)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_ = errorTemplate.Execute(w, msg)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
}
