// Package server builds the televisit HTTP server: an http.Server with
// conservative timeouts and the middleware every response passes through —
// security headers, the client address from trusted proxies, request
// logging without PHI, per-request deadlines and panic recovery.
package server
