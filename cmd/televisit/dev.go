package main

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/televisit/televisit/internal/config"
)

// devOptions are the flags of `televisit dev`.
type devOptions struct {
	addr      string
	dataDir   string
	fresh     bool
	ehrConfig string // a YAML file whose ehr section configures the EHR writeback; none by default
}

const devHelp = `Runs Televisit on this machine with everything it needs: a private
PostgreSQL under DATA-DIR/pg (installed from Debian packages when missing, kept
between runs), a development OpenID provider at /oidc with demo staff and API
clients, a "Demo Clinic" with demo visits, and notifications printed to this
terminal instead of being sent. It prints where to sign in, a fresh patient link
and how to get an API token. Ctrl-C stops everything, PostgreSQL included.

Never use it for real patients: it serves plain HTTP on loopback.`

func runDev(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("dev", "dev [--addr HOST:PORT] [--data-dir DIR] [--fresh] [--ehr-config FILE]", devHelp, io.err)
	var opts devOptions
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "loopback `address` to serve on (port 0 picks a free port)")
	fs.StringVar(&opts.dataDir, "data-dir", ".dev", "`directory` for the database and the development PHI key")
	fs.BoolVar(&opts.fresh, "fresh", false, "delete the database and key in the data directory first")
	fs.StringVar(&opts.ehrConfig, "ehr-config", "", "YAML `file` whose ehr: section (as in serve's configuration) sets up EHR writeback; none by default")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := opts.validate(); err != nil {
		return err
	}
	log := newLogger(io.err, "info", false)
	ctx, stop := signalContext(ctx, log)
	defer stop()
	env, err := startDev(ctx, opts, io, log)
	if err != nil && ctx.Err() != nil {
		return nil // interrupted while starting; everything started is stopped
	}
	if err != nil {
		return fmt.Errorf("%w\n(if the development database is in a bad state, run again with --fresh)", err)
	}
	printBanner(io.out, env)
	return env.wait(ctx)
}

func (o *devOptions) validate() error {
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usageError{"--addr must be host:port"}
	}
	if !config.IsLoopbackHost(host) {
		return usageError{"--addr must be a loopback address such as 127.0.0.1:8080: dev serves plain HTTP"}
	}
	if o.dataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	return nil
}
