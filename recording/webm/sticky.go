package webm

import (
	"io"
	"sync"
)

// stickyWriter hands ebml-go a writer that never fails: ebml-go's muxer
// goroutine stops on a write error and later frames would block forever.
// The first error is kept (and later writes dropped) for Writer to report.
// Close does not close the destination, which belongs to the caller; it
// signals that ebml-go has written the last byte.
type stickyWriter struct {
	w      io.Writer
	mu     sync.Mutex
	err    error
	closed chan struct{}
	once   sync.Once
}

func newStickyWriter(w io.Writer) *stickyWriter {
	return &stickyWriter{w: w, closed: make(chan struct{})}
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

func (s *stickyWriter) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func (s *stickyWriter) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
