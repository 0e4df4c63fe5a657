// Package recording records consenting participants of a visit and keeps
// the recordings: media is muxed into WebM (recording/webm; Opus with VP8,
// VP9 or AV1 video) or, for H264 video, Matroska, written to an
// encrypted local spool (recording/spool) and streamed from the spool to
// object storage (recording/store) by UploadSpool, which retries from the
// spool until the store has every byte. The spool is the source of truth:
// an outage of the store only delays the upload, and after a crash of
// televisit the spool's readable prefix (a playable file) is uploaded.
//
// Manager runs the recordings of a server: for each consenting
// participant it attaches an sfu.Sink to the visit's room (taking only that
// participant's audio and video), queues their RTP off the forwarding
// path, muxes it into one object per participant and uploads it live. The
// writer is made at the participant's first packets with the codec of
// their open video track (the first packets wait up to a second for a
// video track to open; VP8 if none does); a video track in another codec
// opened after that is not recorded. The codec's container names the
// object: recordings/<visit>/<object>.webm (video/webm) for VP8, VP9, AV1
// or audio only, .mkv (video/x-matroska) for H264. The object is recorded
// in the visits database under that name when the writer is made, before
// any media reaches the spool, and its upload starts then; the manifest
// records each object's container and MIME type. When
// a recording stops, each object's SHA-256 (hashed while uploading) is
// checked against its spool and recorded in the visits database, and a
// JSON manifest (participants, consents, track mapping, checksums) is
// stored beside the objects. Recover, run at start, uploads what a crash
// left in the spool directory, under the name the database holds. Consent
// itself is decided by the visits service; the caller (signaling) tells
// Manager whom to record. sfu never imports this package.
package recording
