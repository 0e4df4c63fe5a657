package store

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Key names a recording object: "recordings/<visit uuid>/<recording uuid>.webm".
// It carries no PHI.
type Key struct {
	Visit     uuid.UUID
	Recording uuid.UUID
}

// String is the object name.
func (k Key) String() string {
	return "recordings/" + k.Visit.String() + "/" + k.Recording.String() + ".webm"
}

// ParseKey reverses Key.String.
func ParseKey(s string) (Key, error) {
	rest, ok := strings.CutPrefix(s, "recordings/")
	if !ok {
		return Key{}, fmt.Errorf("%w: want recordings/<visit>/<recording>.webm", ErrKey)
	}
	v, r, ok := strings.Cut(strings.TrimSuffix(rest, ".webm"), "/")
	if !ok || !strings.HasSuffix(rest, ".webm") {
		return Key{}, fmt.Errorf("%w: want recordings/<visit>/<recording>.webm", ErrKey)
	}
	vid, err1 := uuid.Parse(v)
	rid, err2 := uuid.Parse(r)
	if err1 != nil || err2 != nil || len(v) != 36 || len(r) != 36 {
		return Key{}, fmt.Errorf("%w: ids must be UUIDs", ErrKey)
	}
	return Key{Visit: vid, Recording: rid}, nil
}

func (k Key) valid() error {
	if k.Visit == uuid.Nil || k.Recording == uuid.Nil {
		return fmt.Errorf("%w: nil UUID", ErrKey)
	}
	return nil
}
