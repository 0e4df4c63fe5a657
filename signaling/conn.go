package signaling

import (
	"io"
	"time"

	"github.com/gorilla/websocket"
)

// readLoop is the session's only reader. It hands every message, and then
// the error that ends reading, to the owner. Pongs (and messages) push the
// read deadline out by PongWait, so a silent peer is dropped within
// PongWait. The library answers pings and close frames itself and, past the
// read limit, closes with 1009.
func (s *session) readLoop() {
	defer close(s.readerDone)
	s.conn.SetReadLimit(s.cfg.MaxMessageBytes)
	extend := func(string) error { return s.conn.SetReadDeadline(time.Now().Add(s.cfg.PongWait)) }
	_ = extend("")
	s.conn.SetPongHandler(extend)
	for {
		kind, data, err := s.conn.ReadMessage()
		if err == nil {
			_ = extend("")
		}
		select {
		case s.in <- readResult{kind: kind, data: data, err: err}:
		case <-s.stop:
			s.drain()
			return
		}
		if err != nil {
			return
		}
	}
}

// drain discards what the peer still sends until it answers our close
// frame, the connection is closed or closeGrace passes.
func (s *session) drain() {
	_ = s.conn.SetReadDeadline(time.Now().Add(closeGrace))
	for {
		_, r, err := s.conn.NextReader()
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// writeLoop is the only goroutine that writes frames of its own: queued
// messages, pings and the close frame, each with a write deadline. It
// returns when the queue is closed and drained, after a close frame, or on
// the first write error.
func (s *session) writeLoop() {
	defer close(s.writerDone)
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case f, ok := <-s.out:
			if !ok || s.write(f, s.cfg.WriteTimeout) != nil || f.kind == websocket.CloseMessage {
				return
			}
		case f := <-s.abort:
			_ = s.write(f, min(s.cfg.WriteTimeout, closeGrace))
			return
		case <-ping.C:
			if s.write(frame{kind: websocket.PingMessage}, s.cfg.WriteTimeout) != nil {
				return
			}
		}
	}
}

func (s *session) write(f frame, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if f.kind != websocket.TextMessage {
		return s.conn.WriteControl(f.kind, f.data, deadline)
	}
	if err := s.conn.SetWriteDeadline(deadline); err != nil {
		return err
	}
	return s.conn.WriteMessage(f.kind, f.data)
}
