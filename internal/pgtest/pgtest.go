// Package pgtest gives tests a real PostgreSQL: one throwaway cluster per
// test binary (or the server named by TEST_DATABASE_URL), a template
// database migrated once, and a fresh database per test cloned from it.
package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgcluster"
)

// MigrateFunc brings a database to the current schema.
type MigrateFunc func(context.Context, *pgxpool.Pool) error

var (
	adminURL string // a connection string for the maintenance database
	urlFor   func(db string) string
	template string
	counter  atomic.Int64
)

// Main starts PostgreSQL, migrates a template database, runs the tests and
// stops the server. Call it from TestMain. A missing PostgreSQL is a failure,
// never a skip.
func Main(m *testing.M, migrate MigrateFunc) {
	os.Exit(run(m, migrate))
}

func run(m *testing.M, migrate MigrateFunc) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stop, err := startServer(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer stop()
	template = fmt.Sprintf("tv_template_%d", os.Getpid())
	if err := createTemplate(ctx, migrate); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	defer dropDatabase(context.Background(), template)
	return m.Run()
}

func startServer(ctx context.Context) (func(), error) {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		adminURL = u
		urlFor = func(db string) string { return withDatabase(cfg, db) }
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "tvpg")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: dir}, log)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	adminURL, urlFor = c.URL("postgres"), c.URL
	return func() {
		c.Stop(context.Background())
		os.RemoveAll(dir)
	}, nil
}

func withDatabase(cfg *pgx.ConnConfig, db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s password=%s dbname=%s sslmode=prefer",
		quote(cfg.Host), cfg.Port, quote(cfg.User), quote(cfg.Password), quote(db))
}

func quote(s string) string { return "'" + escape(s) + "'" }

func escape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func createTemplate(ctx context.Context, migrate MigrateFunc) error {
	if err := exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, urlFor(template))
	if err != nil {
		return err
	}
	defer pool.Close()
	if migrate == nil {
		return nil
	}
	if err := migrate(ctx, pool); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

func exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func dropDatabase(ctx context.Context, name string) {
	_ = exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// NewDBURL creates a fresh migrated database for this test, dropped when the
// test ends, and returns its connection string.
func NewDBURL(t testing.TB) string {
	t.Helper()
	if urlFor == nil {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	name := fmt.Sprintf("tv_t_%d_%d", os.Getpid(), counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sql := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize())
	if err := exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(context.Background(), name) })
	return urlFor(name)
}

// URL is NewDBURL.
func URL(t testing.TB) string { return NewDBURL(t) }

// NewDB returns a pool on a fresh migrated database for this test.
func NewDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDBURL(t))
	if err != nil {
		t.Fatalf("pgtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
