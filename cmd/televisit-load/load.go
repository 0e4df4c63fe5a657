package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits: the tool is for this machine, in bounded runs.
const (
	maxVisits       = 50
	maxParticipants = 6
	maxDuration     = 10 * time.Minute
	maxVideoBitrate = 8e6
)

// Config is one load run.
type Config struct {
	Server       string        // base URL, http://127.0.0.1:8080
	Visits       int           // visits (rooms)
	Participants int           // per visit: 2 = patient + clinician; more are guests
	Duration     time.Duration // measurement window
	VideoBitrate float64       // bit/s of synthetic VP8 per participant; 0: no video
	Audio        bool          // 50 packets/s of synthetic Opus per participant

	SchedulerID, SchedulerSecret string // API client: creates visits and links

	// The clinician signs in as a person (the development provider's login
	// form): the visits service grants media to people, never to API
	// clients. They admit every patient and guest and join every visit.
	ClinicianUser, ClinicianPassword string
	TokenURL                         string // default <server>/oidc/oauth/token
	ClinicSlug                       string // default: the scheduler's first clinic

	// ServerPID is the server process whose CPU time is measured: 0 finds
	// the process listening on the server's port; -1 skips the figure.
	ServerPID int

	JoinTimeout      time.Duration // for everyone to receive everyone (default 30 s)
	KeyframeInterval time.Duration // default 2 s
	AllowRemote      bool          // allow a non-loopback server
	ShowGaps         bool          // log every stream's missing sequence numbers
	Log              io.Writer     // progress; nil: none
}

func (c *Config) kinds() int {
	n := 0
	if c.Audio {
		n++
	}
	if c.VideoBitrate > 0 {
		n++
	}
	return n
}

func (c *Config) defaults() {
	if c.Server == "" {
		c.Server = "http://127.0.0.1:8080"
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = 30 * time.Second
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = 2 * time.Second
	}
	if c.TokenURL == "" {
		c.TokenURL = c.Server + "/oidc/oauth/token"
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

func (c *Config) validate() error {
	switch {
	case c.Visits < 1 || c.Visits > maxVisits:
		return fmt.Errorf("visits must be 1..%d", maxVisits)
	case c.Participants < 2 || c.Participants > maxParticipants:
		return fmt.Errorf("participants must be 2..%d", maxParticipants)
	case c.Duration < time.Second || c.Duration > maxDuration:
		return fmt.Errorf("duration must be 1s..%s", maxDuration)
	case c.VideoBitrate < 0 || c.VideoBitrate > maxVideoBitrate:
		return fmt.Errorf("video bitrate must be 0..%g bit/s", maxVideoBitrate)
	case c.kinds() == 0:
		return errors.New("nothing to send: enable audio or a video bitrate")
	case c.SchedulerID == "" || c.SchedulerSecret == "":
		return errors.New("the scheduler API client id and secret are required")
	case c.ClinicianUser == "" || c.ClinicianPassword == "":
		return errors.New("the clinician's username and password are required")
	case c.JoinTimeout < time.Second || c.JoinTimeout > 5*time.Minute:
		return errors.New("join timeout must be 1s..5m")
	case c.KeyframeInterval < 100*time.Millisecond:
		return errors.New("keyframe interval must be at least 100ms")
	}
	return nil
}

// Report is what a run measured. Times are in milliseconds.
type Report struct {
	Server       string  `json:"server"`
	Visits       int     `json:"visits"`
	Participants int     `json:"participants_per_visit"`
	Clients      int     `json:"clients"`
	Audio        bool    `json:"audio"`
	VideoBitrate float64 `json:"video_bitrate"`

	Joined        int      `json:"joined"`        // got "joined" on the socket
	ReceivingAll  int      `json:"receiving_all"` // received every other participant's streams before the window
	JoinErrors    []string `json:"join_errors,omitempty"`
	JoinP50Ms     float64  `json:"join_p50_ms"` // WebSocket open to first media packet
	JoinP95Ms     float64  `json:"join_p95_ms"`
	WindowSeconds float64  `json:"window_seconds"`

	PacketsSent     int     `json:"packets_sent"`     // in the window, all clients
	PacketsReceived int     `json:"packets_received"` // in the window, all clients, distinct (sender, track, seq)
	Duplicates      int     `json:"duplicates"`       // received again: retransmissions answering NACKs
	AudioSent       int     `json:"audio_sent"`
	AudioReceived   int     `json:"audio_received"`
	VideoSent       int     `json:"video_sent"`
	VideoReceived   int     `json:"video_received"`
	ExpectedBySeq   int     `json:"expected_by_seq"` // per stream, last-first+1 of the sequence numbers seen
	Lost            int     `json:"lost"`            // never received, retransmissions included
	AudioLost       int     `json:"audio_lost"`
	VideoLost       int     `json:"video_lost"`
	LossPct         float64 `json:"loss_pct"`      // Lost / ExpectedBySeq
	DeliveredPct    float64 `json:"delivered_pct"` // received / (sent x (participants-1)): includes window-edge effects
	DelayP50Ms      float64 `json:"delay_p50_ms"`  // one-way, send to receive
	DelayP99Ms      float64 `json:"delay_p99_ms"`
	DelayMaxMs      float64 `json:"delay_max_ms"`

	ServerPID         int     `json:"server_pid,omitempty"`
	ServerCPUSeconds  float64 `json:"server_cpu_seconds,omitempty"`
	ServerCPUPct      float64 `json:"server_cpu_pct_of_one_core,omitempty"`
	CPUSecondsPer1000 float64 `json:"server_cpu_seconds_per_1000_forwarded,omitempty"`
	LoadCPUSeconds    float64 `json:"load_tool_cpu_seconds,omitempty"`
	CPUNote           string  `json:"cpu_note,omitempty"`
}

// checkLoopback refuses servers that are not on this machine.
func checkLoopback(ctx context.Context, server string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("server %q is not an http(s) URL", server)
	}
	if allowRemote {
		return u, nil
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("refusing to load %s: not a loopback address (load runs only against this machine; -allow-remote overrides)", host)
		}
	}
	return u, nil
}

// Run sets up the visits through the public API, runs the synthetic
// clients, measures for cfg.Duration and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	u, err := checkLoopback(ctx, cfg.Server, cfg.AllowRemote)
	if err != nil {
		return nil, err
	}
	rep := &Report{Server: cfg.Server, Visits: cfg.Visits, Participants: cfg.Participants,
		Clients: cfg.Visits * cfg.Participants, Audio: cfg.Audio, VideoBitrate: cfg.VideoBitrate}

	hc := newHTTPClient(nil)
	schedTok, err := clientToken(ctx, hc, cfg.TokenURL, cfg.SchedulerID, cfg.SchedulerSecret)
	if err != nil {
		return nil, err
	}
	sched := &apiClient{base: cfg.Server, http: hc, token: schedTok}
	clin := &apiClient{base: cfg.Server, http: newHTTPClient(nil)}
	if err := staffSignIn(ctx, clin.http, cfg.Server, cfg.ClinicianUser, cfg.ClinicianPassword); err != nil {
		return nil, err
	}
	clinicID, err := firstClinic(ctx, sched, cfg.ClinicSlug)
	if err != nil {
		return nil, err
	}

	// Patients and guests each connect from their own 127.0.0.x when the
	// server listens on 127.0.0.1 (Linux routes all of 127/8 to lo).
	var nextSource uint32 = 10
	source := func() net.IP {
		if u.Hostname() != "127.0.0.1" {
			return nil
		}
		n := atomic.AddUint32(&nextSource, 1)
		return net.IPv4(127, 0, byte(n/250), byte(1+n%250))
	}
	setupStart := time.Now()
	var setups []*visitSetup
	defer func() {
		// Best effort: complete the visits (admitted ones) so the server's
		// rooms close.
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, v := range setups {
			_ = clin.do(cctx, "POST", "/api/v1/visits/"+v.id+"/complete", nil, nil)
		}
	}()
	for i := 0; i < cfg.Visits; i++ {
		v, err := setupVisit(ctx, cfg.Server, sched, clin, clinicID, i, cfg.Participants, source)
		if v != nil {
			setups = append(setups, v)
		}
		if err != nil {
			return nil, fmt.Errorf("setting up visit %d: %w", i+1, err)
		}
	}
	fmt.Fprintf(cfg.Log, "set up %d visits in %s\n", cfg.Visits, time.Since(setupStart).Round(time.Millisecond))

	origin, err := originOf(cfg.Server)
	if err != nil {
		return nil, err
	}
	var meas atomic.Bool
	var peers []*peer
	defer func() {
		var wg sync.WaitGroup
		for _, p := range peers {
			wg.Add(1)
			go func() { defer wg.Done(); p.close() }()
		}
		wg.Wait()
	}()
	for _, v := range setups {
		for _, c := range v.people {
			peers = append(peers, &peer{id: uint32(len(peers) + 1), visitID: v.id, creds: c, cfg: &cfg, meas: &meas})
		}
	}
	var wg sync.WaitGroup
	startErrs := make([]error, len(peers))
	for i, p := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); startErrs[i] = p.start(ctx, cfg.Server, origin) }()
	}
	wg.Wait()
	for i, err := range startErrs {
		if err != nil {
			rep.JoinErrors = append(rep.JoinErrors, fmt.Sprintf("client %d: %v", i+1, err))
		}
	}

	// Wait until everyone receives everyone (or the join timeout).
	deadline := time.Now().Add(cfg.JoinTimeout)
	for time.Now().Before(deadline) {
		all := true
		for _, p := range peers {
			if !p.ready(cfg.Participants - 1) {
				all = false
				break
			}
		}
		if all {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	var joins []float64
	for i, p := range peers {
		p.mu.Lock()
		if p.joined {
			rep.Joined++
		}
		if len(p.seen) >= (cfg.Participants-1)*cfg.kinds() {
			rep.ReceivingAll++
		}
		if !p.firstMedia.IsZero() {
			joins = append(joins, float64(p.firstMedia.Sub(p.openedAt))/float64(time.Millisecond))
		}
		if p.joinErr != "" {
			rep.JoinErrors = append(rep.JoinErrors, fmt.Sprintf("client %d (%s): %s", i+1, p.creds.role, p.joinErr))
		}
		p.mu.Unlock()
	}
	sort.Float64s(joins)
	rep.JoinP50Ms, rep.JoinP95Ms = round(pct(joins, 50), 1), round(pct(joins, 95), 1)
	fmt.Fprintf(cfg.Log, "%d/%d joined, %d receiving all streams; measuring for %s\n", rep.Joined, len(peers), rep.ReceivingAll, cfg.Duration)

	// The measurement window.
	pid := cfg.ServerPID
	if pid == 0 {
		port, _ := strconv.Atoi(u.Port())
		if port == 0 {
			port = map[string]int{"http": 80, "https": 443}[u.Scheme]
		}
		if pid, err = listeningPID(port); err != nil {
			rep.CPUNote = "server CPU not measured: " + err.Error() + " (pass -server-pid)"
			pid = -1
		}
	} else if pid < 0 {
		rep.CPUNote = "server CPU not measured (-server-pid -1)"
	}
	selfPID := 0
	if pid > 0 {
		selfPID = os.Getpid()
	}
	var cpu0, self0 float64
	if pid > 0 {
		if cpu0, err = processCPU(pid); err != nil {
			rep.CPUNote = fmt.Sprintf("server CPU not measured: %v", err)
			pid = -1
		}
		self0, _ = processCPU(selfPID)
	}
	t0 := time.Now()
	meas.Store(true)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(cfg.Duration):
	}
	meas.Store(false)
	window := time.Since(t0)
	var cpu1, self1 float64
	if pid > 0 {
		if cpu1, err = processCPU(pid); err != nil {
			rep.CPUNote = fmt.Sprintf("server CPU not measured: %v", err)
			pid = -1
		}
		self1, _ = processCPU(selfPID)
	}
	rep.WindowSeconds = round(window.Seconds(), 2)

	var delays []int64
	for _, p := range peers {
		p.mu.Lock()
		rep.AudioSent += p.sent[0]
		rep.VideoSent += p.sent[1]
		for k, s := range p.streams {
			rep.ExpectedBySeq += s.expected()
			rep.Lost += s.lost()
			rep.Duplicates += s.dups
			n := s.unique + s.early
			if k.kind == kindAudio {
				rep.AudioReceived += n
				rep.AudioLost += s.lost()
			} else {
				rep.VideoReceived += n
				rep.VideoLost += s.lost()
			}
			if cfg.ShowGaps && s.lost() > 0 {
				fmt.Fprintf(cfg.Log, "gaps: client %d, from client %d %s: lost %d, [offset length] %v\n",
					p.id, k.sender, k.kind, s.lost(), s.gaps())
			}
		}
		delays = append(delays, p.delaysMicro...)
		p.mu.Unlock()
	}
	rep.PacketsSent = rep.AudioSent + rep.VideoSent
	rep.PacketsReceived = rep.AudioReceived + rep.VideoReceived
	forwarded := rep.PacketsReceived + rep.Duplicates
	if rep.ExpectedBySeq > 0 {
		rep.LossPct = round(100*float64(rep.Lost)/float64(rep.ExpectedBySeq), 3)
	}
	if want := rep.PacketsSent * (cfg.Participants - 1); want > 0 {
		rep.DeliveredPct = round(100*float64(rep.PacketsReceived)/float64(want), 2)
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	ds := make([]float64, len(delays))
	for i, d := range delays {
		ds[i] = float64(d) / 1000
	}
	rep.DelayP50Ms, rep.DelayP99Ms = round(pct(ds, 50), 3), round(pct(ds, 99), 3)
	if len(ds) > 0 {
		rep.DelayMaxMs = round(ds[len(ds)-1], 3)
	}
	if pid > 0 {
		rep.ServerPID = pid
		rep.ServerCPUSeconds = round(cpu1-cpu0, 2)
		rep.ServerCPUPct = round(100*(cpu1-cpu0)/window.Seconds(), 1)
		rep.LoadCPUSeconds = round(self1-self0, 2)
		if forwarded > 0 {
			rep.CPUSecondsPer1000 = round((cpu1-cpu0)/float64(forwarded)*1000, 4)
		}
		rep.CPUNote = fmt.Sprintf("utime+stime of pid %d from /proc (%d ticks/s); forwarded = packets received by all clients in the window, retransmissions included; the load tool shares the machine", pid, clockTicks)
	}
	return rep, nil
}

// pct is the p-th percentile (nearest rank) of sorted values.
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	return sorted[i]
}

func round(v float64, places int) float64 {
	m := math.Pow(10, float64(places))
	return math.Round(v*m) / m
}
