package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{AdvertiseURL: "http://10.0.0.5:8080"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Lease != 5*time.Second || cfg.DrainTimeout != 10*time.Minute {
		t.Fatalf("defaults: %+v", cfg)
	}
	if !ValidNodeID(cfg.NodeID) || len(cfg.NodeID) < 8 || cfg.NodeID[len(cfg.NodeID)-7] != '-' {
		t.Fatalf("default node id %q", cfg.NodeID)
	}
	other, _ := DefaultNodeID()
	if other == cfg.NodeID {
		t.Fatalf("two default node ids are equal: %q", other)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{NodeID: "televisit-0-3f9a1c", AdvertiseURL: "https://tv-0.tv.svc:8443", Lease: 5 * time.Second}
	bad := map[string]Config{
		"no advertise url":   {NodeID: "a"},
		"ftp url":            {NodeID: "a", AdvertiseURL: "ftp://x"},
		"no host":            {NodeID: "a", AdvertiseURL: "http://"},
		"query":              {NodeID: "a", AdvertiseURL: "http://x/?token=1"},
		"user info":          {NodeID: "a", AdvertiseURL: "http://u:p@x"},
		"relative":           {NodeID: "a", AdvertiseURL: "/ws"},
		"bad node id":        {NodeID: "a b", AdvertiseURL: "http://x"},
		"long node id":       {NodeID: strings.Repeat("a", 101), AdvertiseURL: "http://x"},
		"short lease":        {NodeID: "a", AdvertiseURL: "http://x", Lease: 999 * time.Millisecond},
		"long lease":         {NodeID: "a", AdvertiseURL: "http://x", Lease: 61 * time.Second},
		"negative drain":     {NodeID: "a", AdvertiseURL: "http://x", DrainTimeout: -time.Second},
		"drain over a day":   {NodeID: "a", AdvertiseURL: "http://x", DrainTimeout: 25 * time.Hour},
		"negative lease":     {NodeID: "a", AdvertiseURL: "http://x", Lease: -time.Second},
		"fragment in url":    {NodeID: "a", AdvertiseURL: "http://x#f"},
		"empty query in url": {NodeID: "a", AdvertiseURL: "http://x?"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for name, cfg := range bad {
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestSanitizeHost(t *testing.T) {
	if got := sanitizeHost("my host_1.example"); got != "my-host_1.example" {
		t.Fatalf("sanitizeHost = %q", got)
	}
	if got := sanitizeHost(strings.Repeat("h", 300)); len(got) != maxNodeIDLen-suffixLen-1 {
		t.Fatalf("long host kept %d chars", len(got))
	}
}
