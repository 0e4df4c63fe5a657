package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlags returns a flag set for a subcommand whose --help prints synopsis
// and the flags, then the text in more.
func newFlags(name, synopsis, more string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("televisit "+name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: televisit %s\n\n", synopsis)
		fmt.Fprint(w, "Flags:\n")
		fs.PrintDefaults()
		if more != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(more))
		}
	}
	return fs
}

// parseFlags parses args and refuses positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
