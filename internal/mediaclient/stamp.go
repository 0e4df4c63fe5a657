package mediaclient

import (
	"bytes"
	"encoding/binary"
	"time"
)

// Kind is a media kind as stamped into the payloads.
type Kind byte

const (
	Audio Kind = 'a'
	Video Kind = 'v'
)

func (k Kind) String() string {
	switch k {
	case Audio:
		return "audio"
	case Video:
		return "video"
	}
	return "unknown"
}

// Each synthetic payload carries a stamp: magic, sender, kind, sequence
// number and send time (the same layout as cmd/televisit-load's).
var stampMagic = [4]byte{'T', 'V', 'L', '1'}

const stampLen = 4 + 4 + 1 + 4 + 8

type stamp struct {
	sender uint32
	kind   Kind
	seq    uint32
	sent   time.Time
}

func putStamp(b []byte, s stamp) {
	copy(b, stampMagic[:])
	binary.BigEndian.PutUint32(b[4:], s.sender)
	b[8] = byte(s.kind)
	binary.BigEndian.PutUint32(b[9:], s.seq)
	binary.BigEndian.PutUint64(b[13:], uint64(s.sent.UnixNano()))
}

// findStamp looks for a stamp near the start of a payload (after the VP8
// payload descriptor and frame header, or the Opus TOC byte).
func findStamp(p []byte) (stamp, bool) {
	head := p
	if len(head) > 48 {
		head = head[:48]
	}
	i := bytes.Index(head, stampMagic[:])
	if i < 0 || len(p) < i+stampLen {
		return stamp{}, false
	}
	s := p[i:]
	return stamp{sender: binary.BigEndian.Uint32(s[4:]), kind: Kind(s[8]), seq: binary.BigEndian.Uint32(s[9:]),
		sent: time.Unix(0, int64(binary.BigEndian.Uint64(s[13:])))}, true
}
