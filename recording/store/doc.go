// Package store keeps recordings in any S3-compatible object store through
// minio-go: every object is server-side encrypted (SSE-KMS with a configured
// key, or SSE-S3), carries its own object-lock retention (GOVERNANCE or
// COMPLIANCE until a retain-until date) set at upload, and is streamed up as
// a multipart upload of unknown length, so memory stays at about one part
// (Config.PartSize) whatever the length of the recording.
//
// The bucket must exist with object lock enabled (Open refuses it
// otherwise); CreateBucket makes one for development and tests. Object keys
// carry no PHI: a visit UUID and a recording UUID (Key), with the extension
// of the object's Format (.webm, or .mkv for Matroska), which also gives its
// content type.
//
// Access goes through presigned GET URLs valid for at most MaxPresignTTL;
// the caller writes its audit event before asking for one. Delete surfaces
// the store's refusal to delete a retained object as ErrRetained.
//
// Errors name the step and the object key, never credentials or PHI.
package store
