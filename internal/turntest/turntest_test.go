package turntest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/televisit/televisit/internal/turncred"
)

// allocate makes a TURN allocation on s with the given credential and
// returns the relayed connection.
func allocate(t *testing.T, s *Server, username, password string) (net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: s.Addr(),
		TURNServerAddr: s.Addr(),
		Conn:           conn,
		Username:       username,
		Password:       password,
		Realm:          Realm,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	relay, err := c.AllocateWithContext(ctx)
	if err == nil {
		t.Cleanup(func() { relay.Close() })
	}
	return relay, err
}

// TestRelayWithRESTCredentials allocates with a turncred credential and
// relays a datagram to a loopback peer and back.
func TestRelayWithRESTCredentials(t *testing.T) {
	s := Start(t)
	cred := s.Credentials("participant-1")
	if !strings.HasSuffix(cred.Username, ":participant-1") || cred.URLs[0] != s.URL() {
		t.Fatalf("credential = %+v", cred)
	}
	relay, err := allocate(t, s, cred.Username, cred.Credential)
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	raddr := relay.LocalAddr().(*net.UDPAddr)
	if !raddr.IP.IsLoopback() || raddr.Port < s.RelayMin || raddr.Port > s.RelayMax {
		t.Fatalf("relayed address %v outside 127.0.0.1:%d-%d", raddr, s.RelayMin, s.RelayMax)
	}

	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// Writing to the peer creates the permission; the peer then answers
	// to the relayed address.
	if _, err := relay.WriteTo([]byte("ping"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], []byte("ping")) {
		t.Fatalf("peer read: %q %v", buf[:n], err)
	}
	if from.String() != raddr.String() {
		t.Errorf("peer saw %v, want the relayed address %v", from, raddr)
	}
	if _, err := peer.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	relay.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err = relay.ReadFrom(buf)
	if err != nil || !bytes.Equal(buf[:n], []byte("pong")) {
		t.Fatalf("relay read: %q %v", buf[:n], err)
	}
}

func TestRejectsBadCredentials(t *testing.T) {
	s := Start(t)
	good := s.Credentials("participant-2")
	wrongSecret, err := turncred.Config{Secret: "another-secret-of-24-bytes", URLs: []string{s.URL()}}.
		Credentials("participant-2", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, err := s.Config().Credentials("participant-2", time.Now().Add(-turncred.DefaultTTL-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][2]string{
		"wrong secret":      {wrongSecret.Username, wrongSecret.Credential},
		"expired":           {expired.Username, expired.Credential},
		"tampered username": {strings.Replace(good.Username, "participant-2", "participant-3", 1), good.Credential},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := allocate(t, s, c[0], c[1]); err == nil {
				t.Fatal("allocation succeeded")
			}
		})
	}
}

// TestStopsAtCleanup checks that the process is gone after the test.
func TestStopsAtCleanup(t *testing.T) {
	var s *Server
	t.Run("run", func(t *testing.T) { s = Start(t) })
	if s.cmd.ProcessState == nil {
		t.Fatal("turnserver still running after cleanup")
	}
	if err := stunPing(s.Addr(), 300*time.Millisecond); err == nil {
		t.Fatal("port still answers STUN after cleanup")
	}
}

func TestStartsInParallel(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Port == b.Port || a.Secret == b.Secret {
		t.Fatalf("servers share port or secret: %d %d", a.Port, b.Port)
	}
}

// fatalRecorder stands in for a testing.T to observe Fatalf.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestMissingBinaryFails: without turnserver on PATH, Start fails (never
// skips) and says how to install it.
func TestMissingBinaryFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(rec)
	}()
	<-done
	if !strings.Contains(rec.msg, "apt-get install -y coturn") {
		t.Fatalf("Fatalf message = %q", rec.msg)
	}
}
