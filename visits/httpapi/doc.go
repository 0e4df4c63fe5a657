// Package httpapi is the JSON HTTP API under /api/v1: scheduling, visit
// links, the patient check-in, and the clinician's waiting room. It
// authenticates callers, decodes and limits input, calls the visits service
// and maps its typed errors to RFC 9457 problem responses in one place. No
// response or log line carries PHI unless the caller may read it.
package httpapi
