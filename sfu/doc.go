// Package sfu is Televisit's selective forwarding unit: one Room per
// visit, one Participant (one Pion PeerConnection) per peer, and every
// participant receives every other participant's tracks over DTLS-SRTP.
//
// The package imports Pion only. It knows nothing of visits, HTTP or the
// database; the signaling package drives it (HandleOffer, HandleAnswer,
// AddICECandidate, Renegotiate) and receives its offers, ICE candidates
// and state changes through JoinOptions.OnSignal. Close ends all its work.
//
// # Network
//
// All PeerConnections share one SettingEngine: ICE over one UDP port
// (Config.UDPPort, UDP mux), optionally one ICE TCP port, 1:1 NAT public
// addresses, loopback candidates only when Config.IncludeLoopback is set,
// and SRTP protection profiles AES-GCM first. Each PeerConnection gets its
// own MediaEngine and interceptor registry (see media.go).
//
// # Forwarding
//
// Each published track is a publication with up to three simulcast layers.
// A read loop per layer calls publication.handlePacket, which parses the
// packet into a reused header, copies it into the layer's fixed packet
// cache, detects keyframes (VP8, VP9, H264, AV1) and fans out to the
// subscribers' downTracks. A downTrack is our own webrtc.TrackLocal: it
// selects the layer (bandwidth estimate + hint, switching only on a
// keyframe), rewrites SSRC, payload type, sequence number and timestamp so
// the subscriber sees one continuous stream, keeps the audio level
// extension and writes to the bound RTP stream. This path allocates
// nothing (BenchmarkForward1/4/16). There is no transcoding: a subscriber
// that cannot decode a publisher's codec gets that track unbound (no
// media, a warning in the log) while its other tracks keep flowing.
//
// Muted media is not forwarded, nor retransmitted after unmuting: the
// subscriber's sequence mapping restarts at the first keyframe after it.
//
// Every RTPSender has an RTCP read loop: PLI/FIR go to the publisher as
// PLI (at most one per Config.PLIMinInterval per layer), NACKs are answered
// from the packet cache, REMB and the send-side estimator (TWCC/GCC)
// drive layer selection.
//
// # Threading model
//
// Goroutines, all owned by a Participant and ended by its Close (which
// waits for them): one signal loop delivering OnSignal calls; per
// published layer a read loop and a receiver RTCP loop; per forwarded
// track an RTPSender RTCP loop. Pion's own goroutines end with
// PeerConnection.Close.
//
// Locks, none of them held across network I/O or while calling out:
//   - SFU.mu guards the room map; Room.mu guards participants and
//     publications. They are never held while calling a Participant.
//     Reaping an empty room takes SFU.mu, then Room.mu.
//   - Participant.negMu serialises SDP work on its PeerConnection (offer,
//     answer, rollback, queued candidates); Participant.mu guards its
//     publication and subscription maps. Order: negMu, then mu.
//   - publication.mu serialises changes to the subscriber list, which the
//     forwarding path reads lock-free (copy-on-write atomic pointer).
//   - downTrack.mu guards layer selection, rewriting and the binding; it is
//     held only to compute a packet's header, never during the write. Lock
//     order: Participant.mu, then downTrack.mu.
//   - packetCache.mu covers one copy in or out.
//   - Participant.gateMu orders the first local SDP before the ICE
//     candidates gathered for it in the signal queue.
//
// The one exception to "no lock during I/O": Pion's SetLocalDescription and
// SetRemoteDescription run under Participant.negMu; they touch only local
// state (gathering and DTLS run on Pion's goroutines).
//
// # Negotiation
//
// Either side may offer. The SFU offers when tracks are added to or
// removed from a participant's connection (SignalOffer); the peer offers
// to publish (or calls Publish and lets the SFU offer). On glare the SFU
// is impolite, because Pion cannot roll back a local offer: HandleOffer
// returns ErrGlare, and the peer must be polite (roll back its offer when
// the SFU's arrives, answer, offer again), as browsers do with perfect
// negotiation. Answers travel through the same ordered signal queue as
// offers, so the peer sees them in order.
//
// Pion callbacks (OnTrack, OnICECandidate, OnConnectionStateChange) never
// block: outgoing signals go through a bounded queue; a consumer that
// falls SignalQueueLimit signals behind gets its participant closed.
//
// # Recording
//
// The recorder (another package) attaches with Room.AttachSink, through
// the Sink and TrackWriter interfaces declared here: it subscribes like a
// participant without a PeerConnection. The consent rule is not here.
// A TrackWriter's per-track guard mutex is held while calling its
// WriteRTP, which therefore must not block.
package sfu
