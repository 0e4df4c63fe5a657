// Package mediaclient is a Go WebRTC client of Televisit's signaling
// socket (/ws), for tests and load runs. It joins a visit's room, sends
// synthetic Opus and VP8 RTP whose payloads carry stamps (sender, kind,
// sequence number, send time), counts the packets it receives from each
// other participant with their arrival times, and follows the visit across
// the nodes of a cluster: on `moved` it reconnects at once to
// `<same base>/ws?node=<node>`, on a dropped socket or a failed connect it
// tries the next base URL with a short backoff, and after every reconnect it
// says hello and joins again, rebuilding its PeerConnection when the server
// answers `resumed:false`. Like every client that cannot roll back an offer
// it never offers: it sends `publish` and `ice_restart` and answers the
// server's offers. Everything it sees that a test may assert on (moves,
// reconnects, joins) is recorded as an Event.
package mediaclient
