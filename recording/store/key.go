package store

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Format is the container of a recording object: it gives the object's
// extension and content type. The zero value is WebM.
type Format uint8

// The formats: WebM for Opus with VP8, VP9 or AV1 (or audio only),
// Matroska for H264 (recording/webm's ContainerOf decides).
const (
	WebM     Format = iota // ".webm", video/webm
	Matroska               // ".mkv", video/x-matroska
)

// Ext is the object name's extension, with its dot.
func (f Format) Ext() string {
	if f == Matroska {
		return ".mkv"
	}
	return ".webm"
}

// ContentType is the object's MIME type.
func (f Format) ContentType() string {
	if f == Matroska {
		return "video/x-matroska"
	}
	return "video/webm"
}

// Key names a recording object: "recordings/<visit uuid>/<recording
// uuid>.webm", or ".mkv" for a Matroska object. It carries no PHI.
type Key struct {
	Visit     uuid.UUID
	Recording uuid.UUID
	Format    Format
}

// String is the object name.
func (k Key) String() string {
	return "recordings/" + k.Visit.String() + "/" + k.Recording.String() + k.Format.Ext()
}

const keyWant = "want recordings/<visit>/<recording>.webm or .mkv"

// ParseKey reverses Key.String: the extension gives the Format.
func ParseKey(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, "recordings/")
	if !ok {
		return Key{}, fmt.Errorf("%w: %s", ErrKey, keyWant)
	}
	var f Format
	switch {
	case strings.HasSuffix(rest, WebM.Ext()):
		f, rest = WebM, strings.TrimSuffix(rest, WebM.Ext())
	case strings.HasSuffix(rest, Matroska.Ext()):
		f, rest = Matroska, strings.TrimSuffix(rest, Matroska.Ext())
	default:
		return Key{}, fmt.Errorf("%w: %s", ErrKey, keyWant)
	}
	v, r, ok := strings.Cut(rest, "/")
	if !ok {
		return Key{}, fmt.Errorf("%w: %s", ErrKey, keyWant)
	}
	vid, err1 := uuid.Parse(v)
	rid, err2 := uuid.Parse(r)
	if err1 != nil || err2 != nil || len(v) != 36 || len(r) != 36 {
		return Key{}, fmt.Errorf("%w: ids must be UUIDs", ErrKey)
	}
	return Key{Visit: vid, Recording: rid, Format: f}, nil
}

func (k Key) valid() error {
	if k.Visit == uuid.Nil || k.Recording == uuid.Nil {
		return fmt.Errorf("%w: nil UUID", ErrKey)
	}
	if k.Format != WebM && k.Format != Matroska {
		return fmt.Errorf("%w: unknown format %d", ErrKey, k.Format)
	}
	return nil
}
