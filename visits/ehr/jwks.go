package ehr

import (
	"encoding/json"
	"fmt"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksJSON is the JSON Web Key Set publishing the public half of k.
func jwksJSON(k *signingKey) ([]byte, error) {
	body, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.publicJWK()}})
	if err != nil {
		return nil, fmt.Errorf("ehr: encode JWKS: %w", err)
	}
	return body, nil
}

// JWKSHandler serves our public key as a JSON Web Key Set, at the JWKS URL
// the EHR was given when our client was registered. Only GET and HEAD are
// answered.
func (b *SMARTBackend) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(b.jwks)
	})
}
