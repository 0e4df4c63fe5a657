package recording

import (
	"context"
	"io"
	"sync/atomic"

	"github.com/televisit/televisit/recording/store"
)

// Stats is a point-in-time view of the manager for metrics. Counters only
// grow for the life of the manager.
type Stats struct {
	Active        int    // recordings in progress on this node
	UploadsOK     uint64 // object uploads (attempts) that succeeded
	UploadsFailed uint64 // object upload attempts that failed (retried)
	BytesUploaded uint64 // bytes stored by successful uploads
}

// uploadCounters count the manager's uploads.
type uploadCounters struct {
	ok, failed, bytes atomic.Uint64
}

// countingPutter counts each upload attempt through p.
type countingPutter struct {
	p Putter
	c *uploadCounters
}

func (c countingPutter) Put(ctx context.Context, key store.Key, r io.Reader) (store.Object, error) {
	obj, err := c.p.Put(ctx, key, r)
	if err != nil {
		c.c.failed.Add(1)
		return obj, err
	}
	c.c.ok.Add(1)
	if obj.Size > 0 {
		c.c.bytes.Add(uint64(obj.Size))
	}
	return obj, nil
}

// Stats returns the manager's current counts.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	active := len(m.sessions)
	m.mu.Unlock()
	return Stats{Active: active, UploadsOK: m.uploads.ok.Load(),
		UploadsFailed: m.uploads.failed.Load(), BytesUploaded: m.uploads.bytes.Load()}
}
