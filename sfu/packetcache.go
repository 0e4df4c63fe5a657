package sfu

import "sync"

// maxPacketSize is the largest RTP packet the cache stores. Larger packets
// are forwarded but not cached (they cannot be retransmitted).
const maxPacketSize = 1500

// packetCache is a fixed-size ring of RTP packets indexed by sequence
// number. Every slot owns a preallocated buffer, so storing a packet copies
// it and never allocates. One writer (the publisher's read loop) and many
// readers (subscribers' RTCP loops answering NACKs) share it under mu.
type packetCache struct {
	mu    sync.Mutex
	mask  uint16
	buf   []byte // len(slots) * maxPacketSize
	slots []cacheSlot
}

type cacheSlot struct {
	seq   uint16
	n     uint16
	valid bool
}

// newPacketCache returns a cache holding size packets; size is rounded up to
// a power of two between 16 and 32768.
func newPacketCache(size int) *packetCache {
	n := 16
	for n < size && n < 32768 {
		n <<= 1
	}
	return &packetCache{
		mask:  uint16(n - 1),
		buf:   make([]byte, n*maxPacketSize),
		slots: make([]cacheSlot, n),
	}
}

// put stores a copy of pkt under seq. It reports false when pkt is too large.
func (c *packetCache) put(seq uint16, pkt []byte) bool {
	if len(pkt) > maxPacketSize {
		return false
	}
	i := int(seq & c.mask)
	c.mu.Lock()
	copy(c.buf[i*maxPacketSize:], pkt)
	c.slots[i] = cacheSlot{seq: seq, n: uint16(len(pkt)), valid: true}
	c.mu.Unlock()
	return true
}

// get copies the packet stored under seq into dst and returns its length,
// or 0 when the packet is not (or no longer) cached or dst is too small.
func (c *packetCache) get(seq uint16, dst []byte) int {
	i := int(seq & c.mask)
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slots[i]
	if !s.valid || s.seq != seq || int(s.n) > len(dst) {
		return 0
	}
	return copy(dst, c.buf[i*maxPacketSize:i*maxPacketSize+int(s.n)])
}
