package mediaclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

// CloseMoved is the close code that follows a `moved` message.
const CloseMoved = 4302

// serverMsg is every server message field the client reads.
type serverMsg struct {
	Type          string                  `json:"type"`
	Ref           string                  `json:"ref"`
	Code          string                  `json:"code"`
	SDP           string                  `json:"sdp"`
	Reason        string                  `json:"reason"`
	Status        string                  `json:"status"`
	Node          string                  `json:"node"`
	Resumed       bool                    `json:"resumed"`
	ParticipantID string                  `json:"participant_id"`
	Candidate     webrtc.ICECandidateInit `json:"candidate"`
	ICEServers    []struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username"`
		Credential string   `json:"credential"`
	} `json:"ice_servers"`
}

type endKind int

const (
	endDropped endKind = iota // reconnect elsewhere with backoff
	endMoved                  // reconnect at once to the same base, ?node=
	endStopped                // a close code that says stop
	endClosed                 // Close or the context ended
)

// sessionEnd is how one socket ended.
type sessionEnd struct {
	kind   endKind
	node   string // endMoved: the target
	joined bool   // the socket had joined
}

// session is one socket's owner loop state.
type session struct {
	c          *Client
	conn       *websocket.Conn
	base, node string
	joined     bool
	joins      int
	pending    []webrtc.ICECandidateInit // candidates before a remote description
	retry      <-chan time.Time          // join again
	end        *sessionEnd
}

var handlers = map[string]func(*session, serverMsg){
	"joined":         (*session).onJoined,
	"offer":          (*session).onOffer,
	"candidate":      (*session).onCandidate,
	"moved":          (*session).onMoved,
	"error":          (*session).onError,
	"media_stopped":  (*session).onMediaStopped,
	"session_ended":  (*session).onSessionEnded,
	"patient_status": (*session).onPatientStatus,
}

// serve runs the socket until it ends: hello, join, then the server's
// messages, one at a time.
func (c *Client) serve(ctx context.Context, conn *websocket.Conn, base, node string) sessionEnd {
	s := &session{c: c, conn: conn, base: base, node: node}
	c.mu.Lock()
	c.cur.conn, c.cur.base, c.cur.node, c.cur.joined = conn, base, node, false
	c.mu.Unlock()
	in, readErr, stop := make(chan []byte, 64), make(chan error, 1), make(chan struct{})
	go readLoop(conn, in, readErr, stop)
	defer func() {
		c.mu.Lock()
		c.cur.conn, c.cur.joined = nil, false
		c.mu.Unlock()
		close(stop)
		_ = conn.Close()
	}()
	c.write(conn, map[string]any{"v": 1, "type": "hello"})
	s.join()
	for {
		select {
		case <-ctx.Done():
			return sessionEnd{kind: endClosed, joined: s.joined}
		case data := <-in:
			s.handle(data)
			if s.end != nil {
				return *s.end
			}
		case err := <-readErr:
			return s.drain(in, err)
		case <-s.retry:
			s.retry = nil
			s.join()
		}
	}
}

func readLoop(conn *websocket.Conn, in chan<- []byte, readErr chan<- error, stop <-chan struct{}) {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			readErr <- err
			return
		}
		select {
		case in <- data:
		case <-stop:
			return
		}
	}
}

func (s *session) join() {
	s.joins++
	// Without a PeerConnection (a new client, or one that was moved) a
	// place the server still holds cannot be resumed: ask for a new one.
	m := map[string]any{"v": 1, "type": "join", "id": fmt.Sprintf("join-%d", s.joins), "resume": s.c.peer() != nil}
	if s.c.cfg.VisitID != "" {
		m["visit_id"] = s.c.cfg.VisitID
	}
	s.c.write(s.conn, m)
}

func (s *session) handle(data []byte) {
	var m serverMsg
	if err := json.Unmarshal(data, &m); err != nil {
		return
	}
	if h := handlers[m.Type]; h != nil {
		h(s, m)
	}
}

// drain handles the messages read before the socket ended (a `moved`
// comes right before its close), then classifies the end.
func (s *session) drain(in <-chan []byte, err error) sessionEnd {
	for {
		select {
		case data := <-in:
			s.handle(data)
			if s.end != nil {
				return *s.end
			}
		default:
			return s.closed(err)
		}
	}
}

// closed classifies the end of a socket the server (or the network) closed.
func (s *session) closed(err error) sessionEnd {
	code := 0
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		code = ce.Code
	}
	switch code {
	case CloseMoved: // a close 4302 without its moved message: anywhere
		s.c.record(Event{Kind: EventMoved, Base: s.base, Code: code})
		s.c.dropPeer()
		return sessionEnd{kind: endMoved, joined: s.joined}
	case 4400, 4401, 4403, 4409:
		s.c.record(Event{Kind: EventStopped, Base: s.base, Node: s.node, Code: code})
		return sessionEnd{kind: endStopped, joined: s.joined}
	}
	s.c.record(Event{Kind: EventDropped, Base: s.base, Node: s.node, Code: code, Err: err.Error()})
	return sessionEnd{kind: endDropped, joined: s.joined}
}

// onJoined: a resumed place keeps its PeerConnection and restarts ICE; a
// new one gets a new PeerConnection that publishes its tracks.
func (s *session) onJoined(m serverMsg) {
	s.joined = true
	s.c.mu.Lock()
	s.c.cur.joined, s.c.cur.participant = true, m.ParticipantID
	s.c.mu.Unlock()
	s.c.record(Event{Kind: EventJoined, Base: s.base, Node: s.node, Resumed: m.Resumed, Participant: m.ParticipantID})
	if m.Resumed && s.c.peer() != nil {
		s.c.write(s.conn, map[string]any{"v": 1, "type": "ice_restart"})
		s.c.record(Event{Kind: EventICERestart, Base: s.base, Node: s.node})
		return
	}
	var ice []webrtc.ICEServer
	for _, is := range m.ICEServers {
		ice = append(ice, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	s.pending = nil
	if err := s.c.buildPeer(s.conn, ice); err != nil {
		s.c.record(Event{Kind: EventError, Base: s.base, Reason: "peer", Err: err.Error()})
		return
	}
	s.c.write(s.conn, map[string]any{"v": 1, "type": "publish", "kinds": s.c.kinds()})
	s.c.record(Event{Kind: EventPeerBuilt, Base: s.base, Node: s.node})
}

// onOffer answers the server's offer on the current PeerConnection.
func (s *session) onOffer(m serverMsg) {
	pc := s.c.peer()
	if pc == nil {
		return
	}
	if err := s.answer(pc, m.SDP); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
		s.c.record(Event{Kind: EventError, Base: s.base, Reason: "answer", Err: err.Error()})
	}
}

func (s *session) answer(pc *webrtc.PeerConnection, sdp string) error {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("set remote offer: %w", err)
	}
	for _, c := range s.pending {
		_ = pc.AddICECandidate(c)
	}
	s.pending = nil
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	s.c.write(s.conn, map[string]any{"v": 1, "type": "answer", "sdp": ans.SDP})
	return nil
}

func (s *session) onCandidate(m serverMsg) {
	pc := s.c.peer()
	if pc == nil {
		return
	}
	if pc.RemoteDescription() == nil {
		s.pending = append(s.pending, m.Candidate)
		return
	}
	_ = pc.AddICECandidate(m.Candidate)
}

func (s *session) onMoved(m serverMsg) {
	s.c.record(Event{Kind: EventMoved, Base: s.base, Node: m.Node, Reason: m.Reason})
	s.c.dropPeer() // the room it belonged to is gone from this node
	s.end = &sessionEnd{kind: endMoved, node: m.Node, joined: s.joined}
}

// onError records the error; a refused join is tried again shortly (the
// participant may not be admitted yet, or the room is on its way here).
func (s *session) onError(m serverMsg) {
	s.c.record(Event{Kind: EventError, Base: s.base, Node: s.node, Reason: m.Code})
	if !s.joined && len(m.Ref) > 5 && m.Ref[:5] == "join-" && s.retry == nil {
		s.retry = time.After(s.c.cfg.JoinRetry)
	}
}

func (s *session) onMediaStopped(m serverMsg) {
	s.c.record(Event{Kind: EventMediaStopped, Base: s.base, Node: s.node, Reason: m.Reason})
}

func (s *session) onSessionEnded(m serverMsg) {
	s.c.record(Event{Kind: EventSessionEnded, Base: s.base, Node: s.node, Reason: m.Reason})
}

func (s *session) onPatientStatus(m serverMsg) {
	s.c.record(Event{Kind: EventPatientStatus, Base: s.base, Node: s.node, Reason: m.Status})
}
