// Package notify is the notification outbox that carries visit links to
// patients and guests by e-mail, SMS (through a webhook gateway) or, in
// development, the console.
//
// # Writing
//
// [Enqueue] inserts a message into notification_outbox inside the caller's
// transaction, so a visit link and the message that carries it commit or
// roll back together (the transactional outbox pattern). Recipient and body
// are sealed with internal/sealbox before they reach the database; the
// additional data binds each ciphertext to its column, visit and outbox row,
// so a sealed value cannot be moved to another message unnoticed. Enqueue
// also calls pg_notify('televisit_notify', <outbox id>) so that a listening
// [Worker] wakes at once when the transaction commits.
//
// # Delivering
//
// A [Worker] claims due rows with SELECT ... FOR UPDATE SKIP LOCKED, so any
// number of workers in any number of processes may run side by side. The
// claim is a lease: one short autocommit statement moves next_attempt_at of
// the claimed rows to now()+Lease and counts the attempt. The worker then
// decrypts and sends each row with no database transaction or row lock held
// across the network I/O, and finally marks the row sent, schedules a retry
// (exponential backoff with full jitter) or marks it failed. The mark is
// fenced on the attempt number, so a worker whose lease has lapsed cannot
// overwrite the result of the worker that took the row over. A worker stops
// sending from a batch well before its lease ends, when its context ends or
// when it cannot record an outcome, and hands the unsent rows back. The
// lease was chosen over a row lock held for the send so that no database
// transaction, connection or lock is tied up by a slow mail or SMS server.
//
// # Guarantees
//
// A committed message is never lost: it stays pending until a sender
// accepts it or it fails for good (a [PermanentError], MaxAttempts, or no
// sender configured for its channel). Delivery is at least once, not exactly
// once: a crash between a successful send and the mark, a database outage
// longer than the mark's 10 s of retries, or a lapsed lease sends the
// message again once the lease expires. The webhook sender therefore passes
// the outbox id as the JSON "id" and the Idempotency-Key header so that the
// gateway can drop duplicates, and the e-mail sender derives a stable
// Message-ID from the outbox row. Sent rows keep their sealed body.
//
// # PHI
//
// Recipients, bodies and link tokens never appear in logs, in errors
// returned by this package or in last_error. Senders reduce server replies
// to a status code and a fixed text (SMTP servers echo the recipient
// address), and the worker redacts whatever a sender returns before storing
// or logging it.
//
// This package must not import package visits; visits imports notify.
package notify
