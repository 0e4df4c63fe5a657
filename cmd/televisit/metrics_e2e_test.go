package main

import (
	"bufio"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/televisit/televisit/internal/devoidc/devoidctest"
)

// TestMetricsEndToEnd runs serve with server.metrics_addr, has a patient
// check in and a clinician admit them over the API and open a WebSocket,
// and checks the scrape: the series exist and move, /metrics is absent
// from the public listener, and no PHI or identifier appears.
func TestMetricsEndToEnd(t *testing.T) {
	srv, idp, metricsURL := startMetricsServer(t)
	before := scrape(t, metricsURL)
	for _, name := range []string{"televisit_sfu_rooms", "televisit_sfu_participants", "televisit_sfu_packets_forwarded_total",
		"televisit_sfu_packets_lost_total", `televisit_signaling_sessions{kind="staff"}`, "televisit_waiting_room_patients",
		`televisit_ehr_outbox_jobs{state="pending"}`, `televisit_notify_outbox_messages{status="pending"}`,
		"televisit_waiting_room_wait_seconds_count", "televisit_sfu_join_seconds_count", "go_goroutines", "televisit_database_stats_up"} {
		if _, ok := before[name]; !ok {
			t.Errorf("series %s missing", name)
		}
	}
	if resp, err := http.Get(srv.base + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("/metrics is served on the public listener")
		}
	}

	const name, dob = "Metrica Testpatient", "1961-07-14"
	visit := srv.newVisit(t, name, dob, "")
	srv.checkIn(t, visit, dob, "no")
	waitMetric(t, metricsURL, "televisit_waiting_room_patients", func(v float64) bool { return v >= 1 })

	token := clientToken(t, idp.Issuer+"/oauth/token", "api-clinician", idp.Client(t, "api-clinician").Secret)
	admit(t, srv.base, token, visit)
	ws := dialWS(t, srv.base, token)
	for _, m := range []string{`{"v":1,"type":"ping","id":"a"}`, `{"v":1,"type":"no_such_type","id":"b"}`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	waitMetric(t, metricsURL, `televisit_signaling_messages_total{type="unknown"}`, func(v float64) bool { return v >= 1 })
	waitMetric(t, metricsURL, "televisit_waiting_room_patients", func(v float64) bool { return v == 0 })
	after := scrape(t, metricsURL)
	checks := map[string]float64{
		`televisit_signaling_sessions{kind="api_client"}`: 1,
		`televisit_signaling_messages_total{type="ping"}`: 1,
		"televisit_waiting_room_wait_seconds_count":       1,
	}
	for series, want := range checks {
		if got := after[series]; got < want {
			t.Errorf("%s = %v, want >= %v", series, got, want)
		}
	}
	checkScrapeNoPHI(t, metricsURL, name, dob, visit.String())
}

// checkScrapeNoPHI fails when the raw scrape holds the patient's name or date
// of birth, the visit ID or anything that looks like a UUID.
func checkScrapeNoPHI(t *testing.T, url string, phi ...string) {
	t.Helper()
	raw := scrapeRaw(t, url)
	for _, s := range append(phi, strings.Fields(phi[0])...) {
		if strings.Contains(raw, s) {
			t.Errorf("scrape contains %q", s)
		}
	}
	uuidLike := regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	if m := uuidLike.FindString(raw); m != "" {
		t.Errorf("scrape contains a UUID-like string %q", m)
	}
}

func startMetricsServer(t *testing.T) (*consoleServer, *devoidctest.Server, string) {
	t.Helper()
	mport := freePort(t)
	srv := startServer(t, serverOptions{env: []string{"TELEVISIT_SERVER_METRICS_ADDR=127.0.0.1:" + mport}})
	return srv, srv.idp, "http://127.0.0.1:" + mport + "/metrics"
}

func admit(t *testing.T, base, token string, visit interface{ String() string }) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/visits/"+visit.String()+"/admit", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("admit: %d %s", resp.StatusCode, b)
	}
}

func dialWS(t *testing.T, base, token string) *websocket.Conn {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}, "Origin": {base}}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitMetric polls until ok(value of series) or 15 s pass (database
// counts are cached for 5 s).
func waitMetric(t *testing.T, url, series string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		v, found := scrape(t, url)[series]
		if found && ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (found %v): condition not met", series, v, found)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func scrapeRaw(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// scrape parses the text format into series -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(scrapeRaw(t, url)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
