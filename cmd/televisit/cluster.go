package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/cluster"
	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/signaling"
)

// joinCluster registers this process as a node on the database.
func joinCluster(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, log *slog.Logger) (*cluster.Node, error) {
	c := cfg.Cluster.WithDefaults()
	adv := c.AdvertiseURL
	if adv == "" {
		var err error
		if adv, err = defaultAdvertiseURL(cfg.Server); err != nil {
			return nil, err
		}
	}
	proxyTLS, err := nodeTLS(cfg)
	if err != nil {
		return nil, err
	}
	node, err := cluster.New(ctx, pool, cluster.Config{NodeID: c.NodeID, AdvertiseURL: adv,
		Lease: c.Lease, DrainTimeout: c.DrainTimeout, ProxyTLS: proxyTLS}, log)
	if err != nil {
		return nil, err
	}
	log.Info("cluster node registered", "node", node.ID(), "advertise_url", adv, "lease", c.Lease)
	return node, nil
}

// nodeTLS is how this node checks the others when it passes a WebSocket
// on over https: their certificate is for the public host (every node
// serves the same one), from cluster.ca_file or the system roots.
func nodeTLS(cfg config.Config) (*tls.Config, error) {
	u, err := url.Parse(cfg.Server.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("cluster: server.public_url: %w", err)
	}
	t := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if f := cfg.Cluster.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("cluster.ca_file: %w", err)
		}
		t.RootCAs = x509.NewCertPool()
		if !t.RootCAs.AppendCertsFromPEM(pem) {
			return nil, errors.New("cluster.ca_file: no PEM certificates in it")
		}
	}
	return t, nil
}

// placeRooms makes sig's joins go through node's placement, and tells sig
// when node loses a room to another node.
func placeRooms(node *cluster.Node, sig *signaling.Server) {
	node.OnLost(func(visit uuid.UUID, owner string) { sig.RoomLost(visit, owner, signaling.MovedLeaseLost) })
	sig.EnablePlacement(placer{node})
}

// defaultAdvertiseURL is http(s)://<host>:<port of server.addr>, where host
// is the listen address when it names one, else this machine's host name.
func defaultAdvertiseURL(s config.Server) (string, error) {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return "", fmt.Errorf("cluster: server.addr: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if host, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("cluster: host name for advertise_url: %w", err)
		}
	}
	scheme := "http"
	if s.TLS() {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}).String(), nil
}

// moveRoom hands a room on to another node; a room already placed
// elsewhere (taken over meanwhile) moves to no particular node: its
// participants reconnect through the load balancer and find it.
func (a *app) moveRoom(ctx context.Context, visit uuid.UUID) (string, error) {
	node, err := a.node.Move(ctx, visit)
	if errors.Is(err, cluster.ErrNotOwner) {
		return "", nil
	}
	return node, err
}

// placer adapts a cluster node to signaling's Placer.
type placer struct{ n *cluster.Node }

func (p placer) Place(ctx context.Context, visit uuid.UUID) (string, bool, error) {
	pl, err := p.n.Place(ctx, visit)
	return pl.Node, pl.Local, err
}

func (p placer) Release(ctx context.Context, visit uuid.UUID) error { return p.n.Release(ctx, visit) }

// drain runs after the first SIGTERM or SIGINT: the node takes no new rooms
// and /readyz answers 503; running visits go on until they end or
// drain_timeout passes; then their participants are moved to other nodes.
func (a *app) drain(ctx context.Context, timeout time.Duration) {
	if a.node == nil {
		return
	}
	log := a.log.With("component", "cluster")
	if err := a.node.Drain(ctx); err != nil {
		log.Error("drain: mark this node draining", "err", err)
	}
	log.Info("draining", "rooms", a.sig.ConnectedRooms(), "timeout", timeout)
	deadline := time.Now().Add(timeout)
	for a.sig.ConnectedRooms() > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
	rooms := a.sig.LocalRooms()
	if rooms == 0 {
		log.Info("drained: no rooms left")
		return
	}
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.sig.MoveRooms(mctx, a.moveRoom); err != nil {
		log.Error("drain: move rooms", "err", err)
	}
	log.Info("drained: rooms moved to other nodes", "rooms", rooms)
}
