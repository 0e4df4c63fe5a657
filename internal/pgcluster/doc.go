// Package pgcluster runs a private PostgreSQL cluster on a unix socket: the
// throwaway database of `televisit dev` and of the tests. It finds the
// machine's PostgreSQL binaries (installing Debian's package on request when
// there are none), runs initdb once per data directory, and starts and stops
// the server as a child process. PostgreSQL refuses to run as root, so as
// root the server runs as the `postgres` system user.
package pgcluster
