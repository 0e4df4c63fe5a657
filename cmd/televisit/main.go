// Command televisit is the Televisit video-visit backend: one binary for
// every role.
//
//	televisit serve   --config FILE   production server
//	televisit dev                     everything on this machine, with demo data
//	televisit migrate --config FILE   apply database migrations
//	televisit audit verify            check the audit trail's hash chain
//	televisit version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// stdio is what a command talks to; tests substitute it.
type stdio struct {
	out, err io.Writer
	environ  []string
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io stdio) error
}

func commands() []command {
	return []command{
		{"serve", "run the production server", runServe},
		{"dev", "run everything locally with a demo clinic (PostgreSQL, OpenID provider)", runDev},
		{"migrate", "apply database migrations", runMigrate},
		{"audit", "audit trail tools (audit verify)", runAudit},
		{"version", "print the version", runVersion},
	}
}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], stdio{out: os.Stdout, err: os.Stderr, environ: os.Environ()}))
}

// run dispatches to a subcommand and returns the exit code: 0 success, 1
// failure, 2 usage error.
func run(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(io.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], io)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(io.err, "televisit %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, errSilent):
			return 1
		default:
			fmt.Fprintf(io.err, "televisit %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(io.err, "televisit: unknown command %q\n\n", args[0])
	usage(io.err)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: televisit <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'televisit <command> --help' for a command's flags.\n")
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errSilent fails a command that has already said why.
var errSilent = errors.New("failed")
