package mediaclient

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
)

// Client is one participant: started by Start, ended by Close.
type Client struct {
	cfg    Config
	audio  *webrtc.TrackLocalStaticRTP // nil when not sent
	video  *webrtc.TrackLocalStaticRTP
	cancel context.CancelFunc
	wg     sync.WaitGroup

	wantKey   atomic.Bool // a keyframe was asked for (PLI/FIR)
	connected atomic.Bool // the current PeerConnection is connected

	wmu sync.Mutex // serialises writes to a socket

	mu     sync.Mutex
	events []Event
	recv   map[streamKey]*arrivals
	cur    current
}

// current is the client's connection state; under Client.mu.
type current struct {
	conn        *websocket.Conn // the open socket, nil between sockets
	base, node  string          // where conn goes
	joined      bool            // conn has joined the room
	participant string
	pc          *webrtc.PeerConnection
	pcGen       int // counts PeerConnections, so that an old one's callbacks are ignored
	pcState     webrtc.PeerConnectionState
}

// Start validates cfg, starts the synthetic media and connects in the
// background; it returns at once. The client runs until Close or ctx ends.
func Start(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, recv: map[streamKey]*arrivals{}}
	stream := fmt.Sprintf("mediaclient-%d", cfg.Sender)
	var err error
	if cfg.Audio {
		if c.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", stream); err != nil {
			return nil, fmt.Errorf("mediaclient: audio track: %w", err)
		}
	}
	if cfg.Video {
		if c.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", stream); err != nil {
			return nil, fmt.Errorf("mediaclient: video track: %w", err)
		}
	}
	ctx, c.cancel = context.WithCancel(ctx)
	if c.audio != nil {
		c.wg.Go(func() { c.sendAudio(ctx) })
	}
	if c.video != nil {
		c.wg.Go(func() { c.sendVideo(ctx) })
	}
	c.wg.Go(func() { c.run(ctx) })
	return c, nil
}

// Close leaves the room (when joined), closes the socket and the
// PeerConnection and waits for the client's goroutines.
func (c *Client) Close() {
	c.mu.Lock()
	conn, joined := c.cur.conn, c.cur.joined
	c.mu.Unlock()
	if conn != nil && joined {
		c.write(conn, map[string]any{"v": 1, "type": "leave"})
	}
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	pc := c.cur.pc
	c.cur.pc = nil
	c.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
}

// Where is the base URL and ?node= of the open socket, and whether one is
// open and joined.
func (c *Client) Where() (base, node string, joined bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.base, c.cur.node, c.cur.conn != nil && c.cur.joined
}

// Sender is the id stamped into the client's media.
func (c *Client) Sender() uint32 { return c.cfg.Sender }

// Participant is the participant id of the last join ("" before).
func (c *Client) Participant() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.participant
}

// PeerState is the state of the current PeerConnection.
func (c *Client) PeerState() webrtc.PeerConnectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.pcState
}

// DropSocket cuts the open socket without a close handshake, as a network
// failure does; the client then reconnects as after any drop.
func (c *Client) DropSocket() {
	c.mu.Lock()
	conn := c.cur.conn
	c.mu.Unlock()
	if conn != nil {
		_ = conn.NetConn().Close()
	}
}

// write sends v on conn; errors surface as the reader's.
func (c *Client) write(conn *websocket.Conn, v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	_ = conn.WriteJSON(v)
}
