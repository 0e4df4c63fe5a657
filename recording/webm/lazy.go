package webm

import "github.com/at-wat/ebml-go/webm"

// maxPending bounds the blocks held before the header is written (about
// 30 s of audio): past it the header is written with the fallback
// CodecPrivate.
const maxPending = 1500

// blockWriter is one track's side of the muxer.
type blockWriter interface {
	Write(keyframe bool, timestamp int64, b []byte) (int, error)
	Close() error
}

// lazyMux writes the file header when the CodecPrivate is known. H264 and
// AV1 take theirs from the stream (SPS/PPS, sequence header), so until
// the first video keyframe the tracks' blocks wait here, in order.
type lazyMux struct {
	open    func(videoPrivate []byte) ([]webm.BlockWriteCloser, error)
	outs    []webm.BlockWriteCloser
	pending []pendingBlock
	err     error
}

type pendingBlock struct {
	track int
	key   bool
	ts    int64
	data  []byte
}

// start writes the header and the blocks that waited for it. It runs
// once; a failure is kept in err and later blocks are dropped.
func (m *lazyMux) start(private []byte) {
	if m.outs != nil || m.err != nil {
		return
	}
	m.outs, m.err = m.open(private)
	for _, p := range m.pending {
		if m.err == nil {
			_, _ = m.outs[p.track].Write(p.key, p.ts, p.data)
		}
	}
	m.pending = nil
}

func (m *lazyMux) started() bool { return m.outs != nil || m.err != nil }

// track returns the block writer of track i (in entry order).
func (m *lazyMux) track(i int, fallback func() []byte) blockWriter {
	return &lazyTrack{m: m, i: i, fallback: fallback}
}

type lazyTrack struct {
	m        *lazyMux
	i        int
	fallback func() []byte
}

func (t *lazyTrack) Write(key bool, ts int64, b []byte) (int, error) {
	m := t.m
	if !m.started() && len(m.pending) >= maxPending {
		m.start(t.fallback())
	}
	if m.err != nil {
		return 0, m.err
	}
	if m.outs != nil {
		return m.outs[t.i].Write(key, ts, b)
	}
	m.pending = append(m.pending, pendingBlock{track: t.i, key: key, ts: ts, data: append([]byte(nil), b...)})
	return len(b), nil
}

// Close writes the header first if nothing did (a recording without a
// video keyframe), then closes the track.
func (t *lazyTrack) Close() error {
	t.m.start(t.fallback())
	if t.m.err != nil {
		return t.m.err
	}
	return t.m.outs[t.i].Close()
}
