package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// hopHeader marks a request already proxied by a node: it is served
// locally, so a misconfigured advertise_url cannot loop.
const hopHeader = "X-Televisit-Cluster-Hop"

// lookupTimeout bounds the node lookup of one proxied request.
const lookupTimeout = 2 * time.Second

// Proxy wraps the /ws handler: a request with ?node=X, X another node with a
// live lease, is reverse-proxied (WebSocket upgrade included) to X's
// advertise_url with the same path and query; 503 "node unavailable" when X
// cannot be reached. No node param, our own id, or an unknown or expired
// node is served by local. A malformed node param is 400.
func (n *Node) Proxy(local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		node := r.URL.Query().Get("node")
		if node == "" || r.Header.Get(hopHeader) != "" {
			local.ServeHTTP(w, r)
			return
		}
		if !ValidNodeID(node) {
			plainError(w, "malformed node parameter", http.StatusBadRequest)
			return
		}
		if node == n.cfg.NodeID {
			local.ServeHTTP(w, r)
			return
		}
		target, err := n.liveURL(r.Context(), node)
		if err != nil || target == nil {
			if err != nil {
				n.log.WarnContext(r.Context(), "cluster node lookup failed; serving locally", "target", node, "err", err)
			}
			local.ServeHTTP(w, r)
			return
		}
		n.reverseProxy(node, target).ServeHTTP(w, r)
	})
}

// liveURL returns node's advertise_url when its lease is alive, else nil.
func (n *Node) liveURL(ctx context.Context, node string) (*url.URL, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var raw string
	err := n.pool.QueryRow(ctx, `SELECT advertise_url FROM cluster_nodes WHERE id = $1 AND lease_until > now()`,
		node).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if validateAdvertiseURL(raw) != nil {
		return nil, errors.New("cluster: stored advertise_url is invalid")
	}
	return url.Parse(raw)
}

func (n *Node) reverseProxy(node string, target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // keep the public host the client used
			pr.SetXForwarded()
			pr.Out.Header.Set(hopHeader, n.cfg.NodeID)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// err may quote the URL (with credentials in its query): log only its innermost cause.
			var uerr *url.Error
			if errors.As(err, &uerr) {
				err = uerr.Err
			}
			n.log.WarnContext(r.Context(), "cluster proxy: node unreachable", "target", node, "err", err)
			plainError(w, "node unavailable", http.StatusServiceUnavailable)
		},
		ErrorLog:  slog.NewLogLogger(n.log.Handler(), slog.LevelWarn),
		Transport: n.proxyTr,
	}
}

// proxyTransport reaches the other nodes directly (never through an
// environment proxy), with tlsCfg for https advertise URLs.
func proxyTransport(tlsCfg *tls.Config) *http.Transport {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg.Clone()
	}
	return tr
}

func plainError(w http.ResponseWriter, msg string, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
