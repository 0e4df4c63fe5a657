package recording

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording/spool"
	"github.com/televisit/televisit/recording/store"
)

// Putter stores a recording object streamed from r (store.Store does).
type Putter interface {
	Put(ctx context.Context, key store.Key, r io.Reader) (store.Object, error)
}

// UploadConfig tunes UploadSpool. Zero values take defaults.
type UploadConfig struct {
	// Follow: the spool is still being written; read it as it grows until
	// its final chunk. Without Follow the spool is read to its end and its
	// readable prefix uploaded (recovery after a crash).
	Follow bool
	// Poll is how often a following reader looks for new chunks (200 ms).
	Poll time.Duration
	// RetryMin and RetryMax bound the backoff between attempts (1 s, 30 s).
	RetryMin, RetryMax time.Duration
}

func (c *UploadConfig) setDefaults() {
	if c.Poll == 0 {
		c.Poll = 200 * time.Millisecond
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
}

func (c *UploadConfig) validate() error {
	if c.Poll < time.Millisecond || c.RetryMin < time.Millisecond || c.RetryMax < c.RetryMin {
		return errors.New("recording: upload config: poll and retry bounds must be positive, retry max >= min")
	}
	return nil
}

// UploadSpool uploads the spool at path to key, from the start of the
// spool on every attempt, until an attempt stores the whole spool (its
// final chunk, or with Follow unset its readable prefix) or ctx ends. A
// spool that cannot be read (wrong key, corrupt) fails at once: retrying
// would not help.
func UploadSpool(ctx context.Context, p Putter, ring *sealbox.Keyring, path string, key store.Key, cfg UploadConfig, log *slog.Logger) (store.Object, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return store.Object{}, err
	}
	backoff := cfg.RetryMin
	for attempt := 1; ; attempt++ {
		obj, err := uploadOnce(ctx, p, ring, path, key, cfg)
		if err == nil {
			if attempt > 1 {
				log.InfoContext(ctx, "recording upload succeeded after retries", "key", key.String(), "attempts", attempt)
			}
			return obj, nil
		}
		if ctx.Err() != nil || errors.Is(err, spool.ErrCorrupt) || errors.Is(err, spool.ErrFormat) {
			return store.Object{}, fmt.Errorf("recording: upload %s (attempt %d): %w", key, attempt, err)
		}
		log.WarnContext(ctx, "recording upload failed; retrying from the spool", "key", key.String(),
			"attempt", attempt, "retry_in", backoff, "err", err)
		if err := sleep(ctx, backoff); err != nil {
			return store.Object{}, fmt.Errorf("recording: upload %s: %w", key, err)
		}
		backoff = min(backoff*2, cfg.RetryMax)
	}
}

func uploadOnce(ctx context.Context, p Putter, ring *sealbox.Keyring, path string, key store.Key, cfg UploadConfig) (store.Object, error) {
	r, err := spool.Open(path, ring)
	if err != nil {
		return store.Object{}, err
	}
	defer r.Close()
	if cfg.Follow {
		r.Follow(ctx, cfg.Poll)
	}
	return p.Put(ctx, key, r)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
