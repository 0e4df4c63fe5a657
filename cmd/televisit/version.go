package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func runVersion(_ context.Context, args []string, io stdio) error {
	fs := newFlags("version", "version", "", io.err)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "televisit %s%s (%s)\n", version, revision(), runtime.Version())
	return nil
}

// revision is " (commit abc1234)" when the build recorded one.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 7 {
			return " commit " + s.Value[:7]
		}
	}
	return ""
}
