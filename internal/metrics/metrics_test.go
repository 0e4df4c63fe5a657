package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/recording"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/signaling"
	"github.com/televisit/televisit/visits"
)

type sfuStats sfu.Stats

func (s *sfuStats) Stats() sfu.Stats { return sfu.Stats(*s) }

type sigStats signaling.Stats

func (s *sigStats) Stats() signaling.Stats { return signaling.Stats(*s) }

type clusterStats struct {
	draining bool
	held     []uuid.UUID
}

func (c *clusterStats) Draining() bool    { return c.draining }
func (c *clusterStats) Held() []uuid.UUID { return c.held }

type recStats recording.Stats

func (s *recStats) Stats() recording.Stats { return recording.Stats(*s) }

// opsStats counts its calls and fails while err is set.
type opsStats struct {
	calls atomic.Int32
	err   error
	st    visits.OpsStats
}

func (o *opsStats) OpsStats(context.Context) (visits.OpsStats, error) {
	o.calls.Add(1)
	return o.st, o.err
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("scrape lacks %q", l)
		}
	}
}

func newTest(t *testing.T) *Metrics {
	t.Helper()
	return New(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestMetricsCollectComponents(t *testing.T) {
	m := newTest(t)
	s := &sfuStats{Rooms: 2, Participants: 5, PacketsForwarded: 1000, PacketsLost: 7, PacketsNacked: 3}
	g := &sigStats{Sessions: map[string]int{"staff": 2}, MediaParticipants: map[string]int{"patient": 1},
		Messages: map[string]uint64{"join": 4, "unknown": 1}, Moved: map[string]uint64{"draining": 2}}
	r := &recStats{Active: 1, UploadsOK: 3, UploadsFailed: 1, BytesUploaded: 4096}
	c := &clusterStats{draining: true, held: []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}}
	for _, err := range []error{m.WatchSFU(s), m.WatchSignaling(g), m.WatchRecording(r), m.WatchCluster(c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	m.ObserveJoin(1500 * time.Millisecond)
	m.ObserveWait(2 * time.Minute)
	body := scrape(t, m)
	wantLines(t, body,
		"televisit_sfu_rooms 2", "televisit_sfu_participants 5", "televisit_sfu_packets_forwarded_total 1000",
		"televisit_sfu_packets_lost_total 7", "televisit_sfu_packets_nacked_total 3",
		`televisit_signaling_sessions{kind="staff"} 2`, `televisit_signaling_sessions{kind="patient"} 0`,
		`televisit_signaling_media_participants{role="patient"} 1`, `televisit_signaling_media_participants{role="clinician"} 0`,
		`televisit_signaling_messages_total{type="join"} 4`, `televisit_signaling_messages_total{type="unknown"} 1`,
		`televisit_signaling_moved_total{reason="draining"} 2`, "televisit_cluster_draining 1", "televisit_cluster_rooms_placed 3",
		"televisit_recording_active 1", `televisit_recording_uploads_total{result="ok"} 3`,
		`televisit_recording_uploads_total{result="error"} 1`, "televisit_recording_uploaded_bytes_total 4096",
		"televisit_sfu_join_seconds_count 1", `televisit_sfu_join_seconds_bucket{le="2"} 1`,
		"televisit_waiting_room_wait_seconds_count 1", `televisit_waiting_room_wait_seconds_bucket{le="60"} 0`,
	)
	if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_") {
		t.Error("Go and process collectors missing")
	}
	s.PacketsForwarded = 1500 // read at scrape time
	wantLines(t, scrape(t, m), "televisit_sfu_packets_forwarded_total 1500")
}

func TestMetricsDatabaseCachedAndFailing(t *testing.T) {
	m := newTest(t)
	o := &opsStats{st: visits.OpsStats{Waiting: 3, EHRJobs: map[string]int{"failed": 2}, NotifyJobs: map[string]int{"pending": 4}}}
	if err := m.WatchDatabase(o, OpsConfig{MaxAge: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, scrape(t, m), "televisit_database_stats_up 1", "televisit_waiting_room_patients 3",
		`televisit_ehr_outbox_jobs{state="failed"} 2`, `televisit_ehr_outbox_jobs{state="pending"} 0`,
		`televisit_notify_outbox_messages{status="pending"} 4`)
	scrape(t, m)
	if n := o.calls.Load(); n != 1 {
		t.Fatalf("database queried %d times within MaxAge, want 1", n)
	}
	o.err = errors.New("database down")
	time.Sleep(250 * time.Millisecond)
	body := scrape(t, m)
	wantLines(t, body, "televisit_database_stats_up 0")
	if strings.Contains(body, "televisit_waiting_room_patients") {
		t.Error("stale counts served while the database fails")
	}
}

func TestMetricsRegisterTwiceFails(t *testing.T) {
	m := newTest(t)
	s := &sfuStats{}
	if err := m.WatchSFU(s); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchSFU(s); err == nil {
		t.Fatal("second SFU collector registered")
	}
}

// TestMetricsDocumented: docs/operations.md names every televisit metric.
func TestMetricsDocumented(t *testing.T) {
	m := newTest(t)
	for _, err := range []error{m.WatchSFU(&sfuStats{}), m.WatchSignaling(&sigStats{Moved: map[string]uint64{"draining": 0}}),
		m.WatchRecording(&recStats{}), m.WatchDatabase(&opsStats{}, OpsConfig{}), m.WatchCluster(&clusterStats{})} {
		if err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(scrape(t, m), "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE televisit_")
		if !ok {
			continue
		}
		n++
		name = "televisit_" + strings.Fields(name)[0]
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/operations.md does not list %s", name)
		}
	}
	if n < 15 {
		t.Fatalf("only %d televisit metrics", n)
	}
}
