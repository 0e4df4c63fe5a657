package recording_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/televisit/televisit/recording/internal/mediatest"
	"github.com/televisit/televisit/recording/spool"
	"github.com/televisit/televisit/recording/webm"
)

const (
	benchLen     = 10 * time.Minute
	benchVideoBs = 1_500_000
)

// BenchmarkRecord10Min records one participant (audio, 50 packets/s, and
// 1.5 Mbps VP8 video) for 10 minutes of synthetic media through webm and
// the encrypted spool into a temp dir (no S3), faster than real time.
// It reports CPU seconds (user + system, getrusage) and peak heap per
// recording; BenchmarkSyntheticSource10Min is the source's own share.
func BenchmarkRecord10Min(b *testing.B) {
	ring := testRing(b)
	runMeasured(b, func(b *testing.B) int64 {
		path := filepath.Join(b.TempDir(), "bench.spool")
		sp, err := spool.Create(path, ring)
		if err != nil {
			b.Fatal(err)
		}
		w, err := webm.New(sp, webm.Config{Audio: true, Video: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			b.Fatal(err)
		}
		base := time.Now()
		var werr error
		mediatest.Synthetic(benchLen, benchVideoBs, func(p mediatest.Packet) bool {
			werr = w.WriteRTP(p.Kind, p.RTP, base.Add(p.At))
			return werr == nil
		})
		if werr != nil {
			b.Fatal(werr)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			b.Fatal(err)
		}
		return sp.Size()
	})
}

// BenchmarkSyntheticSource10Min generates and packetizes the same media
// without recording it, to subtract from BenchmarkRecord10Min.
func BenchmarkSyntheticSource10Min(b *testing.B) {
	runMeasured(b, func(b *testing.B) int64 {
		var n int64
		mediatest.Synthetic(benchLen, benchVideoBs, func(p mediatest.Packet) bool {
			n += int64(len(p.RTP.Payload))
			return true
		})
		return n
	})
}

// runMeasured runs once per iteration and reports cpu-s/op, peak-heap-MiB
// (the most heap in use, garbage included, at any sample 5 ms apart),
// peak-live-MiB (the most heap live after a GC, above what was live before
// the run) and MiB-out/op written.
func runMeasured(b *testing.B, once func(*testing.B) int64) {
	runtime.GC()
	base := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(base)
	peak := sampleHeapPeak()
	cpu0 := cpuTime(b)
	var bytes int64
	b.ResetTimer()
	for b.Loop() {
		bytes += once(b)
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	heap, live := peak()
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(live-min(live, base[0].Value.Uint64()))/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(bytes)/float64(b.N)/(1<<20), "MiB-out/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleHeapPeak samples the heap until the returned function is called,
// which returns the peaks of heap in use and of live heap.
func sampleHeapPeak() func() (heap, live uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	var peak, peakLive uint64
	stop, done := make(chan struct{}), make(chan struct{})
	var once sync.Once
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			peakLive = max(peakLive, sample[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		once.Do(func() { close(stop) })
		<-done
		return peak, peakLive
	}
}
