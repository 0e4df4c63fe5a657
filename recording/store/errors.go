package store

import "errors"

// Typed errors; callers map them at the edge.
var (
	// ErrConfig: the Config is invalid.
	ErrConfig = errors.New("store: invalid config")
	// ErrBucket: the bucket is missing or has no object lock.
	ErrBucket = errors.New("store: bucket missing or without object lock")
	// ErrRetained: the store refused to delete an object under retention.
	ErrRetained = errors.New("store: object is under retention")
	// ErrTTL: a presigned URL was asked for longer than MaxPresignTTL.
	ErrTTL = errors.New("store: presign ttl out of range")
	// ErrNotFound: no such object.
	ErrNotFound = errors.New("store: object not found")
	// ErrKey: a malformed object key.
	ErrKey = errors.New("store: invalid object key")
)
