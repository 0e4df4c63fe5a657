package main

import (
	"io"
	"log/slog"
	"strings"
)

// newLogger logs JSON (serve) or text (dev) at level ("debug", "info",
// "warn", "error"; validated by the config).
func newLogger(w io.Writer, level string, json bool) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	if json {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
