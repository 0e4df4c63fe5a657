package browsertest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// relay is the test's signalling server: two peers of a room exchange
// WebSocket text messages. Messages to a peer that has not connected yet
// wait in its queue. The default upgrader checks that Origin matches Host.
type relay struct {
	t     testing.TB
	mu    sync.Mutex
	rooms map[string]*room
	conns []*websocket.Conn
	wg    sync.WaitGroup
}

// room holds the outbound queue of each peer, "a" and "b".
type room struct {
	queues map[string]chan []byte
}

const relayQueueLen = 1024

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

// startTestServer serves testdata/ and the relay at /relay?room=R&peer=a|b
// with a strict CSP (no inline script), and closes at the end of the test.
func startTestServer(t testing.TB) *httptest.Server {
	r := &relay{t: t, rooms: map[string]*room{}}
	mux := http.NewServeMux()
	mux.Handle("/relay", r)
	mux.Handle("/favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	files := http.FileServer(http.Dir("testdata"))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, req)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		r.closeAll()
		srv.Close()
	})
	return srv
}

func (r *relay) room(name string) *room {
	r.mu.Lock()
	defer r.mu.Unlock()
	rm := r.rooms[name]
	if rm == nil {
		rm = &room{queues: map[string]chan []byte{
			"a": make(chan []byte, relayQueueLen),
			"b": make(chan []byte, relayQueueLen),
		}}
		r.rooms[name] = rm
	}
	return rm
}

func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.wg.Add(1)
	defer r.wg.Done()
	self := req.URL.Query().Get("peer")
	other := map[string]string{"a": "b", "b": "a"}[self]
	if other == "" {
		http.Error(w, "peer must be a or b", http.StatusBadRequest)
		return
	}
	rm := r.room(req.URL.Query().Get("room"))
	conn, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.conns = append(r.conns, conn)
	r.mu.Unlock()
	done := make(chan struct{})
	r.wg.Go(func() { writeLoop(conn, rm.queues[self], done) })
	defer close(done)
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		select {
		case rm.queues[other] <- msg:
		default:
			r.t.Errorf("relay: queue of peer %s is full", other)
			return
		}
	}
}

// writeLoop is the connection's only writer.
func writeLoop(conn *websocket.Conn, queue <-chan []byte, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case msg := <-queue:
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		}
	}
}

func (r *relay) closeAll() {
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
