// Package docs holds the project's documents; the OpenAPI description of the
// HTTP API is embedded so the server can serve it at /api/v1/openapi.json.
package docs

import _ "embed"

// OpenAPI is docs/openapi.json, the OpenAPI 3.1 description of /api/v1.
//
//go:embed openapi.json
var OpenAPI []byte
