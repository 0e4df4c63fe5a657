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

// Writer muxes RTP packets into a WebM stream. It is safe for concurrent
// use; packets of one track must come from one goroutine in arrival order
// (the order of the network, not sorted).
type Writer struct {
	mu     sync.Mutex
	cfg    Config
	log    *slog.Logger
	out    *stickyWriter
	audio  *track
	video  *track
	start  time.Time // arrival of the first packet of the recording
	closed bool
}

// New writes the WebM header to w and returns a Writer for the configured
// tracks. w is written from a goroutine of the muxer; the caller closes it
// after Close returns.
func New(w io.Writer, cfg Config, log *slog.Logger) (*Writer, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	wr := &Writer{cfg: cfg, log: log, out: newStickyWriter(w)}
	entries := wr.trackEntries()
	bws, err := webm.NewSimpleBlockWriter(wr.out, entries, wr.options(entries)...)
	if err != nil {
		return nil, fmt.Errorf("webm: header: %w", err)
	}
	for i, e := range entries {
		if e.TrackType == trackTypeAudio {
			wr.audio = newTrack(Audio, bws[i], cfg)
		} else {
			wr.video = newTrack(Video, bws[i], cfg)
		}
	}
	if err := wr.out.error(); err != nil {
		return nil, fmt.Errorf("webm: write header: %w", err)
	}
	return wr, nil
}

const (
	trackTypeVideo = 1
	trackTypeAudio = 2
)

// trackEntries lists audio first, as the WebM muxer guidelines ask.
func (w *Writer) trackEntries() []webm.TrackEntry {
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
			CodecID: "V_VP8", TrackType: trackTypeVideo,
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
	return []mkvcore.BlockWriterOption{
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
	if err := w.out.error(); err != nil {
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
