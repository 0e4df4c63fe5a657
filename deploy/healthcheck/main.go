// Command televisit-healthcheck asks the televisit server in the same
// container whether it is ready, for container engines' health checks. The
// image is distroless (no shell, curl or wget), so the check ships as this
// small static binary:
//
//	televisit-healthcheck [-timeout 3s] https://127.0.0.1:8443/readyz
//
// It exits 0 when the answer is 200, 1 when the server is not ready or not
// reachable, and 2 on a usage error. Only loopback URLs are accepted: the
// server's certificate names its public host, not 127.0.0.1, so the
// certificate is not verified, which is safe only because the request never
// leaves the container and carries no credentials or data.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/televisit/televisit/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run checks the URL in args and returns the exit code.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("televisit-healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: televisit-healthcheck [-timeout 3s] https://127.0.0.1:8443/readyz")
		return 2
	}
	u, err := loopbackURL(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "televisit-healthcheck: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := check(ctx, u); err != nil {
		fmt.Fprintf(stderr, "televisit-healthcheck: %v\n", err)
		return 1
	}
	return 0
}

// loopbackURL accepts only http(s) URLs whose host is a loopback address.
func loopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("want an http(s) URL such as https://127.0.0.1:8443/readyz")
	}
	if !config.IsLoopbackHost(u.Hostname()) {
		return nil, errors.New("only loopback URLs are checked (127.0.0.1, ::1, localhost)")
	}
	return u, nil
}

// check GETs u and wants 200.
func check(ctx context.Context, u *url.URL) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback only, see package doc
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u.Path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u.Path, resp.StatusCode)
	}
	return nil
}
