// Package signaling serves the WebSocket endpoint /ws: the live virtual
// waiting room today, WebRTC signaling on the same socket later.
//
// Every connection is one session run by three goroutines. A reader reads
// frames (with a read limit and a read deadline that pongs extend) and hands
// them to the owner. A writer is the only goroutine that writes application
// frames: it takes encoded frames from the session's bounded send queue,
// writes each with a deadline and sends pings on a ticker. The owner loop
// (the goroutine that called ServeHTTP) owns all session state and selects
// on incoming frames, hub events, a coalescing timer, the re-authentication
// ticker and the session's context. Nothing else touches the connection:
// other code reaches a client only by enqueueing, and a client that cannot
// keep up is closed instead of blocking anyone.
//
// The protocol is versioned JSON, one object per text frame:
// {"v":1,"type":"...","id":"...", ...payload}. Each message type has its own
// handler in a map. The protocol, the error codes and every close code are
// documented in docs/signaling.md.
//
// Nothing here logs, or puts in a close reason or error message, anything
// that identifies a patient: patient names travel only inside waiting-room
// snapshots sent to clinicians the visits service has authorised.
package signaling
