package mediaclient

import (
	"testing"
	"time"
)

func TestWSURL(t *testing.T) {
	tests := []struct{ base, node, want string }{
		{"http://127.0.0.1:8080", "", "ws://127.0.0.1:8080/ws"},
		{"https://tv.example.org/", "node-a", "wss://tv.example.org/ws?node=node-a"},
		{"http://127.0.0.1:8080/x?y=1#z", "a b&c", "ws://127.0.0.1:8080/ws?node=a+b%26c"},
	}
	for _, tt := range tests {
		if got, err := wsURL(tt.base, tt.node); err != nil || got != tt.want {
			t.Errorf("wsURL(%q, %q) = %q, %v; want %q", tt.base, tt.node, got, err, tt.want)
		}
	}
	for _, bad := range []string{"ftp://x", "127.0.0.1:80", "http://", "://"} {
		if got, err := wsURL(bad, ""); err == nil {
			t.Errorf("wsURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 200*time.Millisecond, 2*time.Second
	var d time.Duration
	var got []time.Duration
	for range 6 {
		d = nextBackoff(d, lo, hi)
		got = append(got, d)
	}
	want := []time.Duration{200, 400, 800, 1600, 2000, 2000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("backoff %v, want %v ms", got, want)
		}
	}
}

func TestStampRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	buf := make([]byte, 100)
	off := vp8Header(buf, true, true)
	putStamp(buf[off:], stamp{sender: 7, kind: Video, seq: 42, sent: now})
	s, ok := findStamp(buf)
	if !ok || s.sender != 7 || s.kind != Video || s.seq != 42 || !s.sent.Equal(now) {
		t.Fatalf("stamp %+v %v", s, ok)
	}
	if _, ok := findStamp(buf[:off+stampLen-1]); ok {
		t.Fatal("a cut stamp was found")
	}
	if _, ok := findStamp(make([]byte, 100)); ok {
		t.Fatal("a stamp was found in zeros")
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Bases: []string{"http://127.0.0.1:1"}, Origin: "http://127.0.0.1:1"}
	if err := ok.withDefaults().validate(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]Config{
		"no bases":  {Origin: "http://x"},
		"bad base":  {Bases: []string{"ws://x"}, Origin: "http://x"},
		"no origin": {Bases: []string{"http://x"}},
		"backoff":   {Bases: []string{"http://x"}, Origin: "http://x", MinBackoff: time.Second, MaxBackoff: time.Millisecond},
	} {
		if err := c.withDefaults().validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReceivedSince(t *testing.T) {
	c := &Client{recv: map[streamKey]*arrivals{}}
	t0 := time.Now()
	for i := range 10 {
		c.arrived(streamKey{1, Audio}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := c.Received(1, Audio, t0.Add(4*time.Millisecond)); n != 5 {
		t.Fatalf("received %d after 4 ms, want 5", n)
	}
	if n := c.Received(1, Video, t0); n != 0 || c.Received(2, Audio, t0) != 0 {
		t.Fatal("counted another stream")
	}
}
