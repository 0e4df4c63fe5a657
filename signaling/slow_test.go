package signaling

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// smallBuffers makes a socket's kernel buffers tiny, so that a client that
// stops reading is felt by the server after a few kilobytes.
func smallBuffers(opt int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}
}

func TestSlowClientIsClosedAndBlocksNobody(t *testing.T) {
	w := newWorld(t)
	cfg := testConfig()
	cfg.SendQueue, cfg.WriteTimeout = 4, 500*time.Millisecond
	cfg.MsgRate, cfg.MsgBurst = 1e6, 1e6
	lc := net.ListenConfig{Control: smallBuffers(syscall.SO_SNDBUF)}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	st := w.start(cfg, &httptest.Server{Listener: ln, Config: &http.Server{}})
	cs := st.newClinic(t, "north")
	st.auth.addStaff("clin", cs.clinician)
	p := w.newPatient(t, st, cs, "Margaret Hamilton")

	fast := connect(t, st.ts, staffHeaders("clin"))
	fast.hello(nil)
	fast.expectType(2*time.Second, "waiting_room")

	d := websocket.Dialer{NetDialContext: (&net.Dialer{Control: smallBuffers(syscall.SO_RCVBUF)}).DialContext}
	slow, _, err := d.Dial(wsURL(st.ts), staffHeaders("clin"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	eventually(t, 2*time.Second, "both sessions to run", func() bool { return st.srv.sessionCount() == 2 })
	// Ask for many answers and read none of them.
	flood := `{"v":1,"type":"ping","id":"` + strings.Repeat("x", 64) + `"}`
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		for i := 0; i < 100000; i++ {
			_ = slow.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if slow.WriteMessage(websocket.TextMessage, []byte(flood)) != nil {
				return
			}
		}
	}()
	eventually(t, 10*time.Second, "the slow session to be closed", func() bool { return st.srv.sessionCount() == 1 })
	if !strings.Contains(w.logs.String(), "code=4408") {
		t.Errorf("the slow session was not closed with %d", CloseTooSlow)
	}
	<-flooding

	// The other session never noticed.
	checkIn(t, st, p)
	fast.expect(time.Second, "a snapshot with the patient", func(m msg) bool {
		return m.Type == "waiting_room" && m.has(p.visitID)
	})
}
