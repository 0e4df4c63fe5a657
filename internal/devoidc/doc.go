// Package devoidc is a small OpenID provider for development and tests,
// built on zitadel/oidc's op package with an in-memory store: fixed users
// with passwords, confidential web clients (authorization code with PKCE
// S256) and client-credentials service clients, RS256 ID tokens and JWT
// access tokens carrying role and clinic claims, a plain HTML login page and
// an end_session endpoint.
//
// It allows plain http issuers (op.WithAllowInsecure) and keeps everything
// in memory: it is never meant to guard real patient data. The product
// signs staff in against a real identity provider through visits/staffauth.
package devoidc
