package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// problemInternal is the only thing a client learns of a panic.
const problemInternal = `{"type":"about:blank","title":"Internal Server Error","status":500}` + "\n"

// recoverPanics turns a panic into a generic 500 problem+json response (if
// nothing was sent yet) and logs the panic value's type, the route and the
// stack; never the request or the panic value (either may hold PHI).
// http.ErrAbortHandler is re-panicked: it is how handlers abort on purpose.
func recoverPanics(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorderOf(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			log.ErrorContext(r.Context(), "panic serving request",
				"route", routeOf(r), "panic_type", fmt.Sprintf("%T", v), "stack", string(debug.Stack()))
			if rec.wrote() {
				panic(http.ErrAbortHandler) // too late for a response: drop the connection
			}
			writeProblem(rec)
		}()
		next.ServeHTTP(rec, r)
	})
}

func writeProblem(w http.ResponseWriter) {
	h := w.Header()
	for k := range h {
		if k != "Content-Security-Policy" && k != "X-Content-Type-Options" && k != "Referrer-Policy" &&
			k != "X-Frame-Options" && k != "Strict-Transport-Security" && k != "Cache-Control" {
			h.Del(k)
		}
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(problemInternal))
}
