// Package visits holds the state of a clinic's video visits in PostgreSQL:
// visits and their state machine, visit links, the patient check-in and
// knowledge check, the virtual waiting room, the notification outbox and the
// hash-chained audit trail. It knows nothing of media: it never imports Pion.
//
// Every method that reads or changes protected health information takes the
// calling Actor and writes an audit event in the same transaction.
package visits
