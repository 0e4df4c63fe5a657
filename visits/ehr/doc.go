// Package ehr writes to an EHR over FHIR R4: a JSON client (create with
// If-None-Exist, update, read, search by identifier) with typed errors that
// carry the server's OperationOutcome and say whether a retry can help,
// authentication by static bearer token or SMART Backend Services
// (client_credentials with a private_key_jwt assertion signed RS384/ES384,
// our public keys served by JWKSHandler), and builders for the resources we
// send: Encounter, a US Core clinical-note DocumentReference and its
// Provenance.
//
// The package takes plain inputs and knows nothing of visits, notes or the
// outbox that drives it. Resource bodies carry PHI: they are never logged and
// never copied into error text; errors name the step, the HTTP status and the
// OperationOutcome issue codes and expressions only.
package ehr
