package config

import (
	"errors"
	"net/url"
	"regexp"
	"time"
)

// Cluster is how this node works with the other nodes on the same
// database: each visit's room lives on one node (recorded in PostgreSQL),
// and a node that stops renewing its lease has its rooms taken over.
type Cluster struct {
	// NodeID names this node; default the host name plus a random suffix
	// (unique per process start).
	NodeID string `yaml:"node_id"`
	// AdvertiseURL is how the other nodes reach this node's listener to
	// proxy WebSockets to it (http(s)://host:port); default the host name
	// and the port of server.addr.
	AdvertiseURL string `yaml:"advertise_url"`
	// Lease is how long a node holds its rooms without renewing; default
	// 5s. A killed node's rooms move after at most this long.
	Lease time.Duration `yaml:"lease"`
	// DrainTimeout is how long a node asked to stop (SIGTERM) lets its
	// running visits go on before it moves them; default 10m.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// CAFile (PEM) verifies the other nodes' certificates when they serve
	// TLS; default the system roots. Their certificates are checked for
	// the host of server.public_url.
	CAFile string `yaml:"ca_file"`
}

// WithDefaults fills Lease and DrainTimeout; NodeID and AdvertiseURL are
// derived by the caller, which knows the host and listener.
func (c Cluster) WithDefaults() Cluster {
	if c.Lease == 0 {
		c.Lease = 5 * time.Second
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 10 * time.Minute
	}
	return c
}

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func (c *Config) checkCluster() []error {
	k := c.Cluster.WithDefaults()
	var errs []error
	if k.NodeID != "" && !nodeIDPattern.MatchString(k.NodeID) {
		errs = append(errs, errors.New("config: cluster.node_id must be 1-100 of A-Z a-z 0-9 . _ -"))
	}
	if k.AdvertiseURL != "" {
		u, err := url.Parse(k.AdvertiseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			errs = append(errs, errors.New("config: cluster.advertise_url must be http(s)://host:port"))
		}
	}
	if k.Lease < time.Second || k.Lease > time.Minute {
		errs = append(errs, errors.New("config: cluster.lease must be between 1s and 60s"))
	}
	if k.DrainTimeout < 0 || k.DrainTimeout > 24*time.Hour {
		errs = append(errs, errors.New("config: cluster.drain_timeout must be between 0 and 24h"))
	}
	return errs
}
