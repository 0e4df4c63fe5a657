// Command televisit-load opens N visits of M synthetic Pion participants
// against a running Televisit server on this machine and reports how the
// media fared: joins, join time, packets, loss, one-way delay and the
// server's CPU time per 1,000 forwarded packets.
//
// It creates the visits through the public API as the scheduler API client
// (`televisit dev` prints its secret) and admits the patients as a
// clinician signed in through the development provider's login form (the
// server grants media to people, not to API clients),
// then every participant signals over /ws (join, publish, answer) and
// sends synthetic Opus (50 packets/s) and VP8 (30 frames/s at the set
// bitrate) whose payloads carry sender, sequence number and send time.
//
//	televisit-load -server http://127.0.0.1:8080 -visits 10 -participants 2 -duration 30s \
//	    -scheduler-secret ...
//
// It refuses servers that are not on loopback unless -allow-remote is given.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errIncomplete):
		fmt.Fprintln(os.Stderr, "televisit-load:", err)
		stop()
		os.Exit(1)
	default:
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "televisit-load:", err)
		}
		stop()
		os.Exit(2)
	}
}

// errIncomplete: the run measured, but not every client joined and
// received every other participant (exit status 1).
var errIncomplete = errors.New("not every client joined and received every other participant")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("televisit-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var noAudio, asJSON bool
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "Televisit base `URL` (loopback only unless -allow-remote)")
	fs.IntVar(&cfg.Visits, "visits", 1, fmt.Sprintf("number of visits (1..%d)", maxVisits))
	fs.IntVar(&cfg.Participants, "participants", 2, fmt.Sprintf("participants per visit (2..%d): patient, clinician, then guests", maxParticipants))
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "measurement window (at most 10m)")
	fs.Float64Var(&cfg.VideoBitrate, "video-bitrate", 1.5e6, "synthetic VP8 `bit/s` per participant; 0 sends no video")
	fs.BoolVar(&noAudio, "no-audio", false, "send no audio")
	fs.StringVar(&cfg.SchedulerID, "scheduler-id", "api-scheduler", "OAuth client `id` with the scheduler role")
	fs.StringVar(&cfg.SchedulerSecret, "scheduler-secret", "", "its `secret` (televisit dev prints it)")
	fs.StringVar(&cfg.ClinicianUser, "clinician-user", "clinician", "`username` of a clinician of the clinic, signed in through the development provider's login form")
	fs.StringVar(&cfg.ClinicianPassword, "clinician-password", "demo-clinician", "their `password` (the demo one by default)")
	fs.StringVar(&cfg.TokenURL, "token-url", "", "token endpoint (default <server>/oidc/oauth/token)")
	fs.StringVar(&cfg.ClinicSlug, "clinic", "", "clinic `slug` (default: the scheduler's first clinic)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "server `pid` for CPU time (0: the process listening on the server's port; -1: skip)")
	fs.DurationVar(&cfg.JoinTimeout, "join-timeout", 30*time.Second, "time for every client to receive every other")
	fs.DurationVar(&cfg.KeyframeInterval, "keyframe-interval", 2*time.Second, "synthetic VP8 keyframe period (PLIs also get one)")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a server that is not on loopback")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&cfg.ShowGaps, "gaps", false, "log each stream's lost sequence numbers (on stderr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.Audio = !noAudio
	cfg.Log = stderr
	rep, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if rep.Joined < rep.Clients || rep.ReceivingAll < rep.Clients {
		return errIncomplete
	}
	return nil
}

func printReport(w io.Writer, r *Report) {
	media := "audio"
	if !r.Audio {
		media = ""
	}
	if r.VideoBitrate > 0 {
		if media != "" {
			media += " + "
		}
		media += fmt.Sprintf("%.2f Mbit/s video", r.VideoBitrate/1e6)
	}
	fmt.Fprintf(w, "televisit-load: %d visits x %d participants (%s) against %s, window %.1f s\n",
		r.Visits, r.Participants, media, r.Server, r.WindowSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\t\n", k, v) }
	row("joined", fmt.Sprintf("%d / %d", r.Joined, r.Clients))
	row("receiving every other participant", fmt.Sprintf("%d / %d", r.ReceivingAll, r.Clients))
	row("join time p50 / p95 (ws open → first media)", fmt.Sprintf("%.0f / %.0f ms", r.JoinP50Ms, r.JoinP95Ms))
	row("packets sent (audio / video)", fmt.Sprintf("%d (%d / %d)", r.PacketsSent, r.AudioSent, r.VideoSent))
	row("packets received (audio / video)", fmt.Sprintf("%d (%d / %d)", r.PacketsReceived, r.AudioReceived, r.VideoReceived))
	row("duplicates (NACK retransmissions)", fmt.Sprint(r.Duplicates))
	row("loss (sequence gaps after retransmission)", fmt.Sprintf("%.3f %% (%d of %d; audio %d, video %d)", r.LossPct, r.Lost, r.ExpectedBySeq, r.AudioLost, r.VideoLost))
	row("delivered (received / sent×(M−1))", fmt.Sprintf("%.2f %%", r.DeliveredPct))
	row("one-way delay p50 / p99 / max", fmt.Sprintf("%.2f / %.2f / %.1f ms", r.DelayP50Ms, r.DelayP99Ms, r.DelayMaxMs))
	if r.ServerPID > 0 {
		row("server CPU (pid "+fmt.Sprint(r.ServerPID)+")", fmt.Sprintf("%.2f s (%.0f %% of one core)", r.ServerCPUSeconds, r.ServerCPUPct))
		row("server CPU per 1,000 forwarded packets", fmt.Sprintf("%.4f s", r.CPUSecondsPer1000))
		row("load tool CPU", fmt.Sprintf("%.2f s", r.LoadCPUSeconds))
	}
	tw.Flush()
	if r.CPUNote != "" {
		fmt.Fprintf(w, "note: %s\n", r.CPUNote)
	}
	for _, e := range r.JoinErrors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}
