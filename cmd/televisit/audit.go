package main

import (
	"context"
	"fmt"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/visits"
)

func runAudit(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(io.err, "Usage: televisit audit verify [--config FILE]\n")
			return nil
		}
		return usageError{"want a subcommand: audit verify"}
	}
	fs := newFlags("audit verify", "audit verify [--config FILE]",
		"Walks the audit trail's hash chain from the first event and prints how many\n"+
			"events are intact and the first broken link. Exit status 1 if the chain is\n"+
			"broken. Only database.url (TELEVISIT_DATABASE_URL) is required.", io.err)
	file := fs.String("config", "", "YAML configuration `file`")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(*file, io, config.ForDatabase)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg.Database.URL.Value())
	if err != nil {
		return err
	}
	defer pool.Close()
	rep, err := visits.VerifyAudit(ctx, pool)
	if err != nil {
		return err
	}
	return printAuditReport(io, rep)
}

func printAuditReport(io stdio, rep visits.AuditReport) error {
	if rep.OK {
		fmt.Fprintf(io.out, "audit chain OK: %d events checked\n", rep.Checked)
		return nil
	}
	fmt.Fprintf(io.out, "audit chain BROKEN: %d events intact; first broken link at seq %d: %s\n",
		rep.Checked, rep.FirstBroken, rep.Reason)
	return errSilent
}
