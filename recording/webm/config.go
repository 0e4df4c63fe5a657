package webm

import (
	"errors"
	"fmt"
	"time"
)

// Codecs.
const (
	VP8  = "VP8"
	VP9  = "VP9"
	AV1  = "AV1"
	H264 = "H264"
	Opus = "opus"
)

// ErrUnsupportedCodec: a codec this writer does not write (yet).
var ErrUnsupportedCodec = errors.New("webm: unsupported codec")

// ErrConfig: an invalid Config.
var ErrConfig = errors.New("webm: invalid config")

// Config describes the tracks of one participant's recording. Zero values
// take defaults.
type Config struct {
	// Audio and Video enable the tracks; at least one is required.
	Audio bool
	Video bool
	// VideoCodec is VP8 (default), VP9, AV1 or H264 (see ContainerOf);
	// others fail with ErrUnsupportedCodec.
	VideoCodec string
	// AudioCodec is Opus (default).
	AudioCodec string
	// Width and Height are the nominal frame size written in the track
	// header (decoders use the size in the bitstream). Default 640x480.
	Width, Height int
	// Channels of the Opus track (default 2, as WebRTC negotiates).
	Channels int
	// VideoMaxLate and AudioMaxLate are how many packets the sample
	// builders wait for a missing packet (defaults 256 and 50).
	VideoMaxLate, AudioMaxLate uint16
	// MaxDelay is how long (in RTP time) a track waits for a missing
	// packet before writing the complete frames after it (default 500 ms).
	MaxDelay time.Duration
	// MaxSkew is how far one track may run ahead of the other before the
	// interleaver writes without waiting (default 2 s); frames arriving
	// later than that behind the other track are dropped.
	MaxSkew time.Duration
	// OnKeyframeNeeded, if set, is called (from WriteRTP) when the video
	// track waits for a keyframe: at the start and after a lost frame.
	OnKeyframeNeeded func()
}

func (c *Config) setDefaults() {
	if c.VideoCodec == "" {
		c.VideoCodec = VP8
	}
	if c.AudioCodec == "" {
		c.AudioCodec = Opus
	}
	if c.Width == 0 && c.Height == 0 {
		c.Width, c.Height = 640, 480
	}
	if c.Channels == 0 {
		c.Channels = 2
	}
	if c.VideoMaxLate == 0 {
		c.VideoMaxLate = 256
	}
	if c.AudioMaxLate == 0 {
		c.AudioMaxLate = 50
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 500 * time.Millisecond
	}
	if c.MaxSkew == 0 {
		c.MaxSkew = 2 * time.Second
	}
}

func (c *Config) validate() error {
	if !c.Audio && !c.Video {
		return fmt.Errorf("%w: no track", ErrConfig)
	}
	if _, ok := videoCodecs[c.VideoCodec]; c.Video && !ok {
		return fmt.Errorf("%w: video %q (VP8, VP9, AV1 or H264)", ErrUnsupportedCodec, c.VideoCodec)
	}
	if c.Audio && c.AudioCodec != Opus {
		return fmt.Errorf("%w: audio %q (only Opus)", ErrUnsupportedCodec, c.AudioCodec)
	}
	if c.Width < 1 || c.Height < 1 || c.Width > 8192 || c.Height > 8192 {
		return fmt.Errorf("%w: frame size must be 1-8192 each way", ErrConfig)
	}
	if c.Channels < 1 || c.Channels > 2 {
		return fmt.Errorf("%w: channels must be 1 or 2", ErrConfig)
	}
	if c.MaxDelay < 20*time.Millisecond || c.MaxDelay > 5*time.Second {
		return fmt.Errorf("%w: max delay must be 20ms-5s", ErrConfig)
	}
	if c.MaxSkew < 100*time.Millisecond || c.MaxSkew > 10*time.Second {
		return fmt.Errorf("%w: max skew must be 100ms-10s", ErrConfig)
	}
	return nil
}
