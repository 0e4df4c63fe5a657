package recording

import "errors"

var (
	errSkip    = errors.New("recording: track not recorded")
	errStopped = errors.New("recording: stopped")
)
