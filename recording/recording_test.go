package recording_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/televisit/televisit/internal/miniotest"
	"github.com/televisit/televisit/recording"
	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/store"
	"github.com/televisit/televisit/recording/webm"
)

const mediaLen = 10 * time.Second

// TestRecordUploadAndAccess records real VP8 + Opus (with loss and
// reordering) through webm -> spool -> MinIO (TLS, SSE-KMS, COMPLIANCE
// retention) while it is being written, then checks the object: it
// decodes with the expected streams and duration, it is encrypted and
// retained, the store refuses to delete it, and presigned links work for
// at most 5 minutes.
func TestRecordUploadAndAccess(t *testing.T) {
	srv := miniotest.Start(t)
	cfg := storeConfig(srv, "recordings")
	st := openStore(t, cfg)
	ring := testRing(t)
	ivf, ogg := mediatest.Encode(t, t.TempDir(), mediaLen)
	pkts, _ := mediatest.Impair(mediatest.FromFiles(t, ivf, ogg), 3, 1, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rec := newRecorder(t, ring, webm.Config{Audio: true, Video: true, Width: 320, Height: 240})
	key := newKey()
	done := make(chan error, 1)
	var obj store.Object
	go func() {
		var err error
		obj, err = recording.UploadSpool(ctx, st, ring, rec.path, key,
			recording.UploadConfig{Follow: true, Poll: 20 * time.Millisecond}, logger(t))
		done <- err
	}()
	mediatest.Feed(t, rec.w, pkts, time.Now())
	rec.close(t)
	if err := <-done; err != nil {
		t.Fatalf("upload: %v", err)
	}

	got := download(t, st, key)
	if want := plaintext(t, ring, rec.path); !bytes.Equal(got, want) || obj.Size != int64(len(want)) {
		t.Fatalf("object has %d bytes (put reported %d), spool %d: not equal", len(got), obj.Size, len(want))
	}
	file := writeTemp(t, "got.webm", got)
	p := mediatest.FFProbe(t, file)
	if !slices.Equal(p.Streams, []string{"opus", "vp8"}) {
		t.Fatalf("streams %v", p.Streams)
	}
	if d := p.Duration - mediaLen; d < -mediaLen/10 || d > mediaLen/10 {
		t.Fatalf("duration %v, want %v within 10%%", p.Duration, mediaLen)
	}
	if msg := mediatest.Decode(t, file); msg != "" {
		t.Fatalf("decode errors: %s", msg)
	}

	t.Run("encrypted and retained", func(t *testing.T) {
		info, err := st.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if info.SSE != "aws:kms" {
			t.Fatalf("SSE %q, want aws:kms", info.SSE)
		}
		if until := time.Until(info.RetainUntil); until < 23*time.Hour || until > 25*time.Hour {
			t.Fatalf("retain until %v, want about a day from now", info.RetainUntil)
		}
	})
	t.Run("delete refused during retention", func(t *testing.T) {
		if err := st.Delete(ctx, key); !errors.Is(err, store.ErrRetained) {
			t.Fatalf("delete: %v, want ErrRetained", err)
		}
		if again := download(t, st, key); !bytes.Equal(again, got) {
			t.Fatal("object changed after a refused delete")
		}
	})
	t.Run("presigned links", func(t *testing.T) {
		u, err := st.PresignGet(ctx, key, store.MaxPresignTTL)
		if err != nil {
			t.Fatal(err)
		}
		status, body := httpGet(t, srv.TLSConfig(), u.String())
		if status != http.StatusOK || !bytes.Equal(body, got) {
			t.Fatalf("presigned GET: %d, %d bytes", status, len(body))
		}
		if _, err := st.PresignGet(ctx, key, 6*time.Minute); !errors.Is(err, store.ErrTTL) {
			t.Fatalf("6 minute link: %v, want ErrTTL", err)
		}
		short, err := st.PresignGet(ctx, key, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2500 * time.Millisecond)
		if status, _ := httpGet(t, srv.TLSConfig(), short.String()); status != http.StatusForbidden {
			t.Fatalf("expired link answered %d, want 403", status)
		}
	})
}

// TestUploadSurvivesOutage stops MinIO in the middle of a recording's
// upload, keeps recording (the spool grows), restarts MinIO, and checks
// that the object equals the spool's plaintext byte for byte.
func TestUploadSurvivesOutage(t *testing.T) {
	srv := miniotest.Start(t)
	st := openStore(t, storeConfig(srv, "outage"))
	ring := testRing(t)
	rec := newRecorder(t, ring, webm.Config{Audio: true, Video: true})
	key := newKey()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	done := make(chan error, 1)
	go func() {
		_, err := recording.UploadSpool(ctx, st, ring, rec.path, key, recording.UploadConfig{
			Follow: true, Poll: 20 * time.Millisecond, RetryMin: 200 * time.Millisecond, RetryMax: time.Second,
		}, logger(t))
		done <- err
	}()

	// 90 s of 1.5 Mbps media is about 17 MiB: several 5 MiB parts. The
	// first third goes up, MinIO stops, the second third lands in the
	// spool only, MinIO comes back, the rest follows.
	const total = 90 * time.Second
	base := time.Now()
	var pkts []mediatest.Packet
	mediatest.Synthetic(total, 1_500_000, func(p mediatest.Packet) bool { pkts = append(pkts, p); return true })
	third := len(pkts) / 3
	mediatest.Feed(t, rec.w, pkts[:third], base)
	waitForPart(t, srv, "outage")
	srv.Stop()
	mediatest.Feed(t, rec.w, pkts[third:2*third], base)
	if err := rec.sp.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the uploader fails and backs off meanwhile
	select {
	case err := <-done:
		t.Fatalf("upload ended during the outage: %v", err)
	default:
	}
	srv.Restart()
	mediatest.Feed(t, rec.w, pkts[2*third:], base)
	rec.close(t)
	if err := <-done; err != nil {
		t.Fatalf("upload: %v", err)
	}
	got, want := download(t, st, key), plaintext(t, ring, rec.path)
	if !bytes.Equal(got, want) {
		t.Fatalf("object has %d bytes, spool plaintext %d: not equal", len(got), len(want))
	}
	p := mediatest.FFProbe(t, writeTemp(t, "o.webm", got))
	if !slices.Equal(p.Streams, []string{"opus", "vp8"}) || p.Duration < total*9/10 || p.Duration > total*11/10 {
		t.Fatalf("object: streams %v, duration %v", p.Streams, p.Duration)
	}
}

// TestCrashLeavesUploadablePrefix: a spool whose writer never closed (the
// process died) uploads its readable prefix, which plays.
func TestCrashLeavesUploadablePrefix(t *testing.T) {
	srv := miniotest.Start(t)
	st := openStore(t, storeConfig(srv, "crash"))
	ring := testRing(t)
	ivf, ogg := mediatest.Encode(t, t.TempDir(), mediaLen)
	pkts := mediatest.FromFiles(t, ivf, ogg)
	rec := newRecorder(t, ring, webm.Config{Audio: true, Video: true, Width: 320, Height: 240})
	mediatest.Feed(t, rec.w, pkts[:len(pkts)/2], time.Now())
	if err := rec.sp.Sync(); err != nil { // the recorder's periodic sync; then "crash"
		t.Fatal(err)
	}
	key := newKey()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	obj, err := recording.UploadSpool(ctx, st, ring, rec.path, key, recording.UploadConfig{}, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	got := download(t, st, key)
	if obj.Size == 0 || !bytes.Equal(got, plaintext(t, ring, rec.path)) {
		t.Fatalf("prefix object %d bytes does not match the spool", len(got))
	}
	p := mediatest.FFProbe(t, writeTemp(t, "prefix.webm", got))
	if !slices.Equal(p.Streams, []string{"opus", "vp8"}) || p.Duration < 3*time.Second {
		t.Fatalf("prefix: streams %v, duration %v", p.Streams, p.Duration)
	}
	rec.w.Close() // stop the muxer goroutines of the "crashed" recording
}
