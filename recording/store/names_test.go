package store_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording/store"
)

var (
	errMineRetained = errors.New("caller: retained")
	errMineNotFound = errors.New("caller: not found")
)

// TestRetentionNames: Retaining locks an object for its own days; Names
// reports the store's refusal and a missing object with the caller's
// errors, reads the retain-until date and bounds presigned links.
func TestRetentionNames(t *testing.T) {
	srv := miniotest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := config(srv, "names")
	if err := store.CreateBucket(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	key := store.Key{Visit: uuid.New(), Recording: uuid.New()}
	if _, err := st.Retaining(store.Compliance, 3).Put(ctx, key, strings.NewReader("media")); err != nil {
		t.Fatal(err)
	}
	names := st.Names(errMineRetained, errMineNotFound)
	until, err := names.RetainUntil(ctx, key.String())
	if want := time.Now().Add(72 * time.Hour); err != nil || until.Sub(want).Abs() > time.Minute {
		t.Fatalf("retain until %s, %v; want about %s", until, err, want)
	}
	err = names.Delete(ctx, key.String())
	if !errors.Is(err, errMineRetained) || !errors.Is(err, store.ErrRetained) {
		t.Fatalf("delete under COMPLIANCE: %v", err)
	}
	missing := store.Key{Visit: uuid.New(), Recording: uuid.New()}.String()
	if err := names.Delete(ctx, missing); !errors.Is(err, errMineNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := names.RetainUntil(ctx, missing); !errors.Is(err, errMineNotFound) {
		t.Fatalf("retention of missing: %v", err)
	}
	if _, err := names.PresignGet(ctx, key.String(), 6*time.Minute); !errors.Is(err, store.ErrTTL) {
		t.Fatalf("6 minute link: %v", err)
	}
	for _, bad := range []string{"other/x", "recordings/../x", ""} {
		if _, err := names.PresignGet(ctx, bad, time.Minute); !errors.Is(err, store.ErrKey) {
			t.Fatalf("name %q: %v", bad, err)
		}
	}
	if _, err := st.Retaining("FOREVER", 3).Put(ctx, key, strings.NewReader("x")); !errors.Is(err, store.ErrConfig) {
		t.Fatalf("bad mode: %v", err)
	}
}
