// Package fhirtest runs a real third-party FHIR R4 server on 127.0.0.1 for
// tests: Medplum's FhirRouter over an in-memory repository (npm packages
// @medplum/core, @medplum/fhir-router and @medplum/mock 4.5.2, pinned in
// medplum/package-lock.json) served by medplum/server.mjs under Node. Every
// resource is validated on create and update (missing required elements, bad
// dates, unknown elements and FHIRPath invariants answer 400 with an
// OperationOutcome); conditional create (If-None-Exist), search by
// identifier, read, update and _history work. Code bindings are not checked.
//
// With WithSMART the server also plays a SMART Backend Services
// authorization server: POST <base>/auth/token accepts client_credentials with
// a private_key_jwt assertion (RS384/ES384, verified with the jose npm package
// against the client's JWKS URL) and FHIR requests need its bearer token.
//
// Clients talk to the server through a small HTTP proxy written in Go, so a
// test can take the EHR offline and back (Stop, Start: connections are
// refused while the data is kept), lose the answer of a write the server
// applied (DropNextWriteResponse) or hold it back until the test releases it
// (HoldNextWrite).
//
// The npm packages are installed by `make deps` (.ci/deps.d/medplum.sh); a
// missing node or node_modules fails the test with that hint.
package fhirtest
