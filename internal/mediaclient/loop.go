package mediaclient

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// run connects, serves the socket and reconnects until ctx ends: after
// `moved` at once to the same base's ?node=; when that base answers the
// ?node= upgrade with an HTTP error (503: the node is unreachable), to
// the same base's plain /ws with backoff; after a drop or any other failed
// connect to the next base with backoff. The backoff is reset by a join.
func (c *Client) run(ctx context.Context) {
	i, node := 0, ""
	var backoff time.Duration
	for ctx.Err() == nil {
		base := c.cfg.Bases[i%len(c.cfg.Bases)]
		conn, status, err := c.dial(ctx, base, node)
		if err != nil {
			if node == "" || status == 0 {
				i++ // this base is down: try the next
			}
			node = ""
			backoff = nextBackoff(backoff, c.cfg.MinBackoff, c.cfg.MaxBackoff)
			sleep(ctx, backoff)
			continue
		}
		end := c.serve(ctx, conn, base, node)
		if end.joined {
			backoff = 0
		}
		switch end.kind {
		case endClosed, endStopped:
			return
		case endMoved:
			if !end.joined && node != "" {
				// Moved again before joining: do not spin between nodes.
				backoff = nextBackoff(backoff, c.cfg.MinBackoff, c.cfg.MaxBackoff)
				sleep(ctx, backoff)
			}
			node = end.node
		case endDropped:
			node, i = "", i+1
			backoff = nextBackoff(backoff, c.cfg.MinBackoff, c.cfg.MaxBackoff)
			sleep(ctx, backoff)
		}
	}
}

// dial opens base's /ws (with ?node=) and records the outcome; status is
// the HTTP status of a refused upgrade (0: no answer).
func (c *Client) dial(ctx context.Context, base, node string) (conn *websocket.Conn, status int, err error) {
	u, err := wsURL(base, node)
	if err != nil {
		return nil, 0, err
	}
	h := http.Header{}
	for k, v := range c.cfg.Header {
		h[k] = append([]string(nil), v...)
	}
	h.Set("Origin", c.cfg.Origin)
	d := websocket.Dialer{HandshakeTimeout: c.cfg.DialTimeout, Jar: c.cfg.Jar}
	conn, resp, err := d.DialContext(ctx, u, h)
	if err != nil {
		if resp != nil {
			status = resp.StatusCode
		}
		if ctx.Err() == nil {
			c.record(Event{Kind: EventDialFailed, Base: base, Node: node, Code: status, Err: err.Error()})
		}
		return nil, status, err
	}
	c.record(Event{Kind: EventConnected, Base: base, Node: node})
	return conn, 0, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
