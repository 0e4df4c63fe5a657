// Package web serves the embedded browser pages: for now a landing page
// with the staff sign-in link and a placeholder at /join, where patient
// links land. The full browser app arrives later. Pages use no inline
// script or style, so they work under the server's strict CSP.
package web
