package webm

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
)

// Kind says which track a packet belongs to.
type Kind int

// Track kinds.
const (
	Audio Kind = iota + 1
	Video
)

func (k Kind) String() string {
	switch k {
	case Audio:
		return "audio"
	case Video:
		return "video"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ErrClosed: WriteRTP after Close.
var ErrClosed = errors.New("webm: writer closed")

// Writer muxes RTP packets into a WebM (or Matroska) stream. It is safe for concurrent
// use; packets of one track must come from one goroutine in arrival order
// (the order of the network, not sorted).
type Writer struct {
	mu     sync.Mutex
	cfg    Config
	codec  videoCodec
	log    *slog.Logger
	out    *stickyWriter
	mux    *lazyMux
	audio  *track
	video  *track
	start  time.Time // arrival of the first packet of the recording
	closed bool
}

// New returns a Writer for the configured tracks, writing a WebM (VP8,
// VP9, AV1, audio only) or Matroska (H264) stream to w, see ContainerOf.
// The header is written now, or for H264 and AV1 when the first video
// keyframe brings the codec's parameters. w is written from a goroutine of
// the muxer; the caller closes it after Close returns.
func New(w io.Writer, cfg Config, log *slog.Logger) (*Writer, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	wr := &Writer{cfg: cfg, log: log, out: newStickyWriter(w), codec: videoCodecs[cfg.VideoCodec]}
	wr.mux = &lazyMux{open: wr.open}
	fallback := func() []byte { return nil }
	if cfg.Video && wr.codec.fallback != nil {
		fallback = wr.codec.fallback
	}
	for i, e := range wr.trackEntries(nil) {
		if e.TrackType == trackTypeAudio {
			wr.audio = newTrack(Audio, wr.mux.track(i, fallback), cfg, videoCodec{})
		} else {
			wr.video = newTrack(Video, wr.mux.track(i, fallback), cfg, wr.codec)
			wr.video.onKey = wr.onKeyframe
		}
	}
	if !cfg.Video || wr.codec.private == nil {
		wr.mux.start(nil)
	}
	if err := wr.err(); err != nil {
		return nil, fmt.Errorf("webm: write header: %w", err)
	}
	return wr, nil
}

// open writes the header; videoPrivate is the video CodecPrivate.
func (w *Writer) open(videoPrivate []byte) ([]webm.BlockWriteCloser, error) {
	entries := w.trackEntries(videoPrivate)
	bws, err := webm.NewSimpleBlockWriter(w.out, entries, w.options(entries)...)
	if err != nil {
		return nil, fmt.Errorf("webm: header: %w", err)
	}
	return bws, nil
}

// onKeyframe writes a waiting header with the CodecPrivate of the first
// video keyframe (the fallback if the frame has no parameters).
func (w *Writer) onKeyframe(frame []byte) {
	if w.mux.started() || w.codec.private == nil {
		return
	}
	priv := w.codec.private(frame)
	if priv == nil {
		w.log.Warn("webm: first keyframe without codec parameters; using in-band ones", "codec", w.cfg.VideoCodec)
		priv = w.codec.fallback()
	}
	w.mux.start(priv)
}

// err is the first error of the header or the output.
func (w *Writer) err() error {
	if w.mux.err != nil {
		return w.mux.err
	}
	return w.out.error()
}

const (
	trackTypeVideo = 1
	trackTypeAudio = 2
)

// trackEntries lists audio first, as the WebM muxer guidelines ask.
func (w *Writer) trackEntries(videoPrivate []byte) []webm.TrackEntry {
	var entries []webm.TrackEntry
	if w.cfg.Audio {
		entries = append(entries, webm.TrackEntry{
			Name: "audio", TrackNumber: uint64(len(entries) + 1), TrackUID: uint64(len(entries) + 1),
			CodecID: "A_OPUS", TrackType: trackTypeAudio, CodecPrivate: opusHead(w.cfg.Channels),
			CodecDelay: uint64(opusPreSkip) * 1e9 / 48000, SeekPreRoll: 80_000_000,
			Audio: &webm.Audio{SamplingFrequency: 48000, Channels: uint64(w.cfg.Channels)},
		})
	}
	if w.cfg.Video {
		entries = append(entries, webm.TrackEntry{
			Name: "video", TrackNumber: uint64(len(entries) + 1), TrackUID: uint64(len(entries) + 1),
			CodecID: w.codec.codecID, TrackType: trackTypeVideo, CodecPrivate: videoPrivate,
			Video: &webm.Video{PixelWidth: uint64(w.cfg.Width), PixelHeight: uint64(w.cfg.Height)},
		})
	}
	return entries
}

// options: interleave tracks by time within MaxSkew; start clusters at
// video keyframes (at least 1 s, at most 5 s long), or every 5 s without
// video.
func (w *Writer) options(entries []webm.TrackEntry) []mkvcore.BlockWriterOption {
	sorter, _ := mkvcore.NewMultiTrackBlockSorter(
		mkvcore.WithMaxTimescaleDelay(w.cfg.MaxSkew.Milliseconds()),
		mkvcore.WithSortRule(mkvcore.BlockSorterDropOutdated))
	main := entries[len(entries)-1].TrackNumber // video if any, else audio
	minCluster := int64(1000)
	if !w.cfg.Video {
		minCluster = 5000
	}
	info := *webm.DefaultSegmentInfo
	info.MuxingApp, info.WritingApp = "televisit", "televisit recording"
	header := *webm.DefaultEBMLHeader
	header.DocType = ContainerOf(w.cfg.VideoCodec).Name
	if !w.cfg.Video {
		header.DocType = WebM.Name
	}
	return []mkvcore.BlockWriterOption{
		mkvcore.WithEBMLHeader(&header),
		mkvcore.WithBlockInterceptor(sorter),
		mkvcore.WithMinMaxClusterDuration(main, minCluster, 5000),
		mkvcore.WithSegmentInfo(&info),
		mkvcore.WithOnFatalHandler(func(err error) { w.log.Error("webm: muxer", "err", err) }),
		mkvcore.WithOnErrorHandler(func(err error) { w.log.Debug("webm: muxer dropped a frame", "err", err) }),
	}
}

// WriteRTP adds one packet that arrived at arrival. The writer keeps p
// until its frame is complete: the caller must not reuse or modify it
// (copy packets read into a reused buffer). Packets of a kind that is not
// configured are an error; the first write error of the output is returned
// from then on.
func (w *Writer) WriteRTP(kind Kind, p *rtp.Packet, arrival time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	t := w.track(kind)
	if t == nil {
		return fmt.Errorf("webm: no %s track", kind)
	}
	if w.start.IsZero() {
		w.start = arrival
	}
	t.push(p, arrival.Sub(w.start))
	if err := w.err(); err != nil {
		return fmt.Errorf("webm: output: %w", err)
	}
	return nil
}

func (w *Writer) track(kind Kind) *track {
	switch kind {
	case Audio:
		return w.audio
	case Video:
		return w.video
	}
	return nil
}

// Close writes the frames still in the sample builders, finishes the file
// and returns the first output error. It is idempotent; it does not close
// the destination.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.error()
	}
	w.closed = true
	for _, t := range []*track{w.audio, w.video} {
		if t != nil {
			t.flush()
		}
	}
	for _, t := range []*track{w.audio, w.video} {
		if t != nil {
			_ = t.bw.Close() // the last Close waits for the muxer to finish
		}
	}
	if w.mux.err != nil {
		return w.mux.err // no muxer ran
	}
	<-w.out.closed
	if err := w.out.error(); err != nil {
		return fmt.Errorf("webm: output: %w", err)
	}
	return nil
}

// Stats counts what the writer did, per track.
type Stats struct {
	Audio, Video TrackStats
}

// TrackStats counts one track.
type TrackStats struct {
	Frames         int           // frames written
	DroppedPackets int           // packets the sample builder gave up on
	SkippedFrames  int           // frames dropped while waiting for a keyframe
	LateFrames     int           // frames dropped for coming after later ones
	LastTime       time.Duration // time of the last frame written
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s Stats
	if w.audio != nil {
		s.Audio = w.audio.stats
	}
	if w.video != nil {
		s.Video = w.video.stats
	}
	return s
}
