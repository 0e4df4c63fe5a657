package main

import (
	"context"

	"github.com/televisit/televisit/internal/config"
)

func runMigrate(ctx context.Context, args []string, io stdio) error {
	fs := newFlags("migrate", "migrate [--config FILE]",
		"Applies every database migration the configured database lacks.\nOnly database.url (TELEVISIT_DATABASE_URL) is required.", io.err)
	file := fs.String("config", "", "YAML configuration `file`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*file, io, config.ForDatabase)
	if err != nil {
		return err
	}
	log := newLogger(io.err, cfg.Log.Level, true)
	pool, err := openPool(ctx, cfg.Database.URL.Value())
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate(ctx, pool, log)
}
