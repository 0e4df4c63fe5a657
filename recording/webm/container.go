package webm

import "strings"

// Container is the file format a recording is written in.
type Container struct {
	Name        string // "webm" or "matroska" (the EBML DocType)
	Ext         string // ".webm" or ".mkv"
	ContentType string // "video/webm" or "video/x-matroska"
}

// The containers.
var (
	WebM     = Container{Name: "webm", Ext: ".webm", ContentType: "video/webm"}
	Matroska = Container{Name: "matroska", Ext: ".mkv", ContentType: "video/x-matroska"}
)

// ContainerOf is the container a video codec is written in: WebM for VP8,
// VP9 and AV1 (and for audio only, codec ""), Matroska for H264.
func ContainerOf(videoCodec string) Container {
	if videoCodec == H264 {
		return Matroska
	}
	return WebM
}

// CodecOfMime maps a WebRTC MIME type ("video/VP9", "audio/opus") to the
// codec name Config takes; ok is false for a codec the writer does not
// write.
func CodecOfMime(mime string) (codec string, ok bool) {
	kind, name, _ := strings.Cut(mime, "/")
	switch strings.ToLower(kind) {
	case "audio":
		return Opus, strings.EqualFold(name, Opus)
	case "video":
		for c := range videoCodecs {
			if strings.EqualFold(name, c) {
				return c, true
			}
		}
	}
	return "", false
}
