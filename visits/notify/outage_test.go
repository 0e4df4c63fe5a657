package notify_test

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/pgtest"
	"github.com/televisit/televisit/visits/notify"
)

// pgProxy forwards 127.0.0.1 TCP connections to PostgreSQL and can cut the
// database off: down closes every open connection and refuses new ones,
// like a server restart or a network partition.
type pgProxy struct {
	addr   string
	target func() (net.Conn, error)

	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func startPGProxy(t *testing.T, url string) *pgProxy {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{target: func() (net.Conn, error) {
		if strings.HasPrefix(cfg.Host, "/") {
			return net.Dial("unix", filepath.Join(cfg.Host, ".s.PGSQL."+strconv.Itoa(int(cfg.Port))))
		}
		return net.Dial("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); p.setDown(true); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.serve(c) }()
		}
	}()
	return p
}

func (p *pgProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns = append(p.conns, c)
	p.mu.Unlock()
	up, err := p.target()
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	<-done
}

func (p *pgProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// poolVia opens a pool on url that connects through the proxy.
func (p *pgProxy) poolVia(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	cc := cfg.ConnConfig
	cc.Host, cc.Port, cc.TLSConfig, cc.Fallbacks = host, uint16(n), nil, nil
	cc.ConnectTimeout = 2 * time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestRunSurvivesDatabaseOutage(t *testing.T) {
	url := pgtest.NewDBURL(t)
	direct, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	proxy := startPGProxy(t, url)
	keys := newKeys(t, "k1")
	log, logs := newLog(t)
	g := &gateway{}
	_, sender := startGateway(t, g)
	visit := newVisit(t, direct)
	cfg := fastConfig()
	cfg.Poll = 50 * time.Millisecond
	runWorker(t, newWorker(t, cfg, proxy.poolVia(t, url), keys, map[notify.Channel]notify.Sender{notify.ChannelSMS: sender}, log))

	first := enqueue(t, direct, keys, smsMsg(visit))[0]
	eventually(t, "delivery before the outage", func() bool { return readRow(t, direct, first).Status == "sent" })

	proxy.setDown(true)
	during := strconv.FormatInt(enqueue(t, direct, keys, smsMsg(visit))[0], 10)
	eventually(t, "the outage to be noticed", func() bool {
		return strings.Contains(logs.String(), "notification round failed")
	})
	time.Sleep(300 * time.Millisecond)
	if len(g.delivered()[during]) != 0 {
		t.Fatal("delivered while the database was unreachable")
	}

	proxy.setDown(false)
	eventually(t, "delivery after the outage", func() bool { return len(g.delivered()[during]) == 1 })
	after := strconv.FormatInt(enqueue(t, direct, keys, smsMsg(visit))[0], 10)
	eventually(t, "delivery once recovered", func() bool { return len(g.delivered()[after]) == 1 })
}

func TestOutcomeRecordedAfterShortOutage(t *testing.T) {
	url := pgtest.NewDBURL(t)
	direct, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	proxy := startPGProxy(t, url)
	keys := newKeys(t, "k1")
	log, _ := newLog(t)
	visit := newVisit(t, direct)
	ids := enqueue(t, direct, keys, smsMsg(visit), smsMsg(visit))
	var sent []int64
	var restored sync.WaitGroup
	t.Cleanup(restored.Wait)
	// The database goes away right after the first send and is back 300ms
	// later: the worker must still record that send, then carry on.
	blip := senderFunc(func(_ context.Context, m notify.Message) error {
		sent = append(sent, m.ID)
		if len(sent) == 1 {
			proxy.setDown(true)
			restored.Add(1)
			time.AfterFunc(300*time.Millisecond, func() { proxy.setDown(false); restored.Done() })
		}
		return nil
	})
	w := newWorker(t, fastConfig(), proxy.poolVia(t, url), keys, map[notify.Channel]notify.Sender{notify.ChannelSMS: blip}, log)
	if n, err := w.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v; want 2, nil", n, err)
	}
	for _, id := range ids {
		if r := readRow(t, direct, id); r.Status != "sent" || r.Attempts != 1 {
			t.Errorf("row %d = %+v", id, r)
		}
	}
	if len(sent) != 2 {
		t.Errorf("sent %v", sent)
	}
}
