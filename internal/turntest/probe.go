package turntest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

const stunMagicCookie = 0x2112A442

// freePort returns a port that is free on 127.0.0.1 for both TCP and UDP
// at the time of the call.
func freePort() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return port, nil
	}
	return 0, errors.New("turntest: no port free for both TCP and UDP")
}

// stunPing sends a STUN Binding request (RFC 5389) over UDP and waits for a
// success response with the same transaction id.
func stunPing(addr string, timeout time.Duration) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	req := make([]byte, 20)
	binary.BigEndian.PutUint16(req[0:], 0x0001) // Binding request
	binary.BigEndian.PutUint32(req[4:], stunMagicCookie)
	if _, err := rand.Read(req[8:20]); err != nil {
		return err
	}
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := conn.Write(req); err != nil {
		return err
	}
	resp := make([]byte, 1500)
	n, err := conn.Read(resp)
	if err != nil {
		return err
	}
	if n < 20 || binary.BigEndian.Uint16(resp[0:]) != 0x0101 || !bytes.Equal(resp[8:20], req[8:20]) {
		return errors.New("turntest: unexpected STUN response")
	}
	return nil
}
