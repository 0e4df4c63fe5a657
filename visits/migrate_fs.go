package visits

import (
	"io/fs"

	"github.com/pressly/goose/v3/lock"
)

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic("visits: embedded migrations missing: " + err.Error()) // build-time invariant
	}
	return sub
}

func mustLocker() lock.SessionLocker {
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		panic("visits: goose session locker: " + err.Error()) // only fails on bad options
	}
	return l
}
