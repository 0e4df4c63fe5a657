package cluster

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
)

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func FuzzValidNodeID(f *testing.F) {
	for _, s := range []string{"", "televisit-0-3f9a1c", "a b", "é", "<x>", "a\x00", "../.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidNodeID(s), nodeIDPattern.MatchString(s); got != want {
			t.Fatalf("ValidNodeID(%q) = %v, regexp says %v", s, got, want)
		}
	})
}

func FuzzConfig(f *testing.F) {
	f.Add("node-a", "http://10.0.0.1:8080", int64(5e9), int64(6e11))
	f.Add("", "https://[::1]:8443/base", int64(0), int64(0))
	f.Add("x y", "http://%zz", int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, id, advertise string, lease, drain int64) {
		cfg, err := Config{NodeID: id, AdvertiseURL: advertise, Lease: time.Duration(lease), DrainTimeout: time.Duration(drain)}.withDefaults()
		if err != nil {
			return
		}
		if !ValidNodeID(cfg.NodeID) || cfg.Lease < time.Second || cfg.Lease > time.Minute ||
			cfg.DrainTimeout < 0 || cfg.DrainTimeout > 24*time.Hour || validateAdvertiseURL(cfg.AdvertiseURL) != nil {
			t.Fatalf("accepted an invalid config %+v", cfg)
		}
	})
}

func FuzzParsePayload(f *testing.F) {
	f.Add(uuid.New().String() + " node-a")
	f.Add(uuid.New().String() + " ")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		v, node, err := parsePayload(s)
		if err != nil {
			return
		}
		if node != "" && !ValidNodeID(node) {
			t.Fatalf("accepted node %q", node)
		}
		if v2, node2, err := parsePayload(v.String() + " " + node); err != nil || v2 != v || node2 != node {
			t.Fatalf("round trip of %q: %v %q %v", s, v2, node2, err)
		}
	})
}
