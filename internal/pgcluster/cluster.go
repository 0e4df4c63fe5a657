package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a cluster.
type Options struct {
	// DataDir holds the cluster (DataDir/data) and its socket (DataDir/sock).
	// It is created if missing and kept after Stop.
	DataDir string
	// Fresh removes an existing cluster first.
	Fresh bool
	// Durable keeps fsync on. Tests and throwaway dev clusters leave it off.
	Durable bool
	// User is the superuser initdb creates; default "app".
	User string
	// StartTimeout bounds waiting for the server to accept connections.
	StartTimeout time.Duration
}

func (o *Options) validate() error {
	if o.DataDir == "" {
		return errors.New("pgcluster: DataDir is required")
	}
	if o.User == "" {
		o.User = "app"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return fmt.Errorf("pgcluster: data dir: %w", err)
	}
	o.DataDir = abs
	if len(filepath.Join(abs, "sock", ".s.PGSQL.5432")) > 100 {
		return errors.New("pgcluster: data dir path too long for a unix socket; choose a shorter one")
	}
	return nil
}

// Cluster is a running PostgreSQL server.
type Cluster struct {
	opts    Options
	log     *slog.Logger
	cmd     *exec.Cmd
	exited  chan struct{}
	sockDir string
}

// Start initialises the cluster if needed and starts the server.
func Start(ctx context.Context, opts Options, log *slog.Logger) (*Cluster, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := currentRunAs()
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, log: log, sockDir: filepath.Join(opts.DataDir, "sock"), exited: make(chan struct{})}
	if err := c.prepareDirs(runAs); err != nil {
		return nil, err
	}
	if err := c.initdb(ctx, bin, runAs); err != nil {
		return nil, err
	}
	if err := c.startServer(bin, runAs); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.Stop(context.Background())
		return nil, err
	}
	return c, nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.opts.DataDir, "data") }

func (c *Cluster) prepareDirs(runAs *credential) error {
	if c.opts.Fresh {
		if err := os.RemoveAll(c.opts.DataDir); err != nil {
			return fmt.Errorf("pgcluster: remove old cluster: %w", err)
		}
	}
	for _, d := range []string{c.opts.DataDir, c.sockDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgcluster: create %s: %w", filepath.Base(d), err)
		}
		if err := runAs.chown(d); err != nil {
			return err
		}
	}
	return runAs.checkReachable(c.opts.DataDir)
}

func (c *Cluster) initdb(ctx context.Context, bin string, runAs *credential) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", c.dataDir(),
		"-A", "trust", "-U", c.opts.User, "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions")
	runAs.apply(cmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgcluster: initdb: %w: %s", err, tail(out))
	}
	return nil
}

func (c *Cluster) startServer(bin string, runAs *credential) error {
	args := []string{"-D", c.dataDir(), "-k", c.sockDir, "-c", "listen_addresses=",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB"}
	if !c.opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logf, err := os.OpenFile(filepath.Join(c.opts.DataDir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: open server log: %w", err)
	}
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// If this process dies, the server shuts down instead of lingering.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	runAs.apply(c.cmd)
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	go func() { c.cmd.Wait(); logf.Close(); close(c.exited) }()
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(c.opts.StartTimeout)
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return fmt.Errorf("pgcluster: postgres exited at start; see %s", filepath.Join(c.opts.DataDir, "postgres.log"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgcluster: postgres not ready after %s: %w", c.opts.StartTimeout, err)
		}
	}
}

// URL is the connection string for database db over the unix socket.
func (c *Cluster) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(c.opts.User), Path: "/" + db}
	u.RawQuery = url.Values{"host": {c.sockDir}, "sslmode": {"disable"}}.Encode()
	return u.String()
}

// CreateDatabase creates database name if it does not exist.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: look up database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("pgcluster: create database: %w", err)
	}
	return nil
}

// Stop shuts the server down (fast mode: open sessions are rolled back) and
// waits for it to exit.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
	}
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	<-c.exited
	return errors.New("pgcluster: postgres did not stop in time; sent SIGQUIT")
}
