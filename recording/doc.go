// Package recording records consenting participants of a visit and keeps
// the recordings: media is muxed into WebM (recording/webm), written to an
// encrypted local spool (recording/spool) and streamed from the spool to
// object storage (recording/store) by UploadSpool, which retries from the
// spool until the store has every byte. The spool is the source of truth:
// an outage of the store only delays the upload, and after a crash of
// televisit the spool's readable prefix (a playable WebM) is uploaded.
//
// The consent flow and the attachment to an sfu room come next; sfu never
// imports this package.
package recording
