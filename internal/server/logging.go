package server

import (
	"log/slog"
	"net/http"
	"time"
)

// logRequests logs one line per request: method, route pattern, status,
// response size and duration. Never the URL (paths and queries may carry
// identifiers or link tokens), headers, bodies or the client address (an
// IP address is a HIPAA identifier). Requests no route matched log the
// pattern "unmatched".
func logRequests(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("route", routeOf(r)),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
		)
	})
}

// routeOf is the pattern the ServeMux matched (it sets r.Pattern on the
// request it is given), never the raw path.
func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}
