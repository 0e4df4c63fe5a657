package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/pion/logging"
)

// pionLoggerFactory adapts Pion's logging onto slog. Pion's info messages
// describe SDP, ICE candidates and connection details, so they go out at
// debug level, as do warnings and errors that carry network addresses,
// candidates or SDP (addresses identify patients' networks). Trace and
// debug are dropped: Pion's debug lines format live objects (a track in
// onTrack) without its locks, a data race the race detector reports.
type pionLoggerFactory struct {
	log  *slog.Logger
	addr *regexp.Regexp // IPv4 or IPv6 literal
}

func newPionLoggerFactory(log *slog.Logger) pionLoggerFactory {
	return pionLoggerFactory{
		log:  log,
		addr: regexp.MustCompile(`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]*`),
	}
}

func (f pionLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: f.log.With("pion", scope), addr: f.addr}
}

type pionLogger struct {
	log  *slog.Logger
	addr *regexp.Regexp
}

func (l pionLogger) emit(level slog.Level, msg string) {
	if level > slog.LevelDebug && l.sensitive(msg) {
		level = slog.LevelDebug
	}
	l.log.Log(context.Background(), level, msg)
}

func (l pionLogger) emitf(level slog.Level, format string, args ...any) {
	if !l.log.Enabled(context.Background(), slog.LevelDebug) && !l.log.Enabled(context.Background(), level) {
		return
	}
	l.emit(level, fmt.Sprintf(format, args...))
}

// sensitive reports whether msg names an address, a candidate or SDP.
func (l pionLogger) sensitive(msg string) bool {
	return strings.Contains(msg, "candidate") || strings.Contains(msg, "a=") ||
		strings.Contains(msg, "v=0") || (l.addr != nil && l.addr.MatchString(msg))
}

func (l pionLogger) Trace(string)                   {}
func (l pionLogger) Tracef(string, ...any)          {}
func (l pionLogger) Debug(string)                   {}
func (l pionLogger) Debugf(string, ...any)          {}
func (l pionLogger) Info(msg string)                { l.emit(slog.LevelDebug, msg) }
func (l pionLogger) Infof(format string, a ...any)  { l.emitf(slog.LevelDebug, format, a...) }
func (l pionLogger) Warn(msg string)                { l.emit(slog.LevelWarn, msg) }
func (l pionLogger) Warnf(format string, a ...any)  { l.emitf(slog.LevelWarn, format, a...) }
func (l pionLogger) Error(msg string)               { l.emit(slog.LevelError, msg) }
func (l pionLogger) Errorf(format string, a ...any) { l.emitf(slog.LevelError, format, a...) }
