package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/cluster"
	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/internal/sealbox"
	"github.com/televisit/televisit/recording"
	"github.com/televisit/televisit/sfu"
	"github.com/televisit/televisit/signaling"
	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/httpapi"
	"github.com/televisit/televisit/visits/notify"
	"github.com/televisit/televisit/visits/staffauth"
	"github.com/televisit/televisit/web"
)

// appDeps is what buildApp wires together.
type appDeps struct {
	cfg     config.Config
	pool    *pgxpool.Pool
	keys    *sealbox.Keyring
	senders map[notify.Channel]notify.Sender
	log     *slog.Logger
}

// app is the running parts of a televisit process, serve or dev.
type app struct {
	svc    *visits.Service
	hub    *visits.Hub
	worker *notify.Worker
	ehr    *visits.EHRWorker // nil without EHR endpoints
	sig    *signaling.Server
	node   *cluster.Node // this process's place in the cluster
	media  *sfu.SFU
	rec    *recording.Manager       // nil when recording is off
	sweep  *visits.RetentionSweeper // nil when recording is off
	log    *slog.Logger
}

// buildApp builds every component and mounts its routes on mux:
// /api/v1, /healthz and /readyz (httpapi), /auth (staffauth), /ws
// (signaling) and / (web).
func buildApp(ctx context.Context, d appDeps, mux *http.ServeMux) (*app, error) {
	svc, err := visits.NewService(visitsConfig(d.cfg), d.pool, d.keys, d.log.With("component", "visits"))
	if err != nil {
		return nil, err
	}
	hub := visits.NewHub(d.pool, d.log.With("component", "hub"))
	ehrWorker, err := buildEHR(d.cfg.EHR, svc, mux, d.log.With("component", "ehr"))
	if err != nil {
		return nil, err
	}
	worker, err := notify.NewWorker(notify.WorkerConfig{}, d.pool, d.keys, d.senders, d.log)
	if err != nil {
		return nil, err
	}
	auth, err := staffauth.New(ctx, staffAuthConfig(d.cfg), d.pool, d.log.With("component", "staffauth"))
	if err != nil {
		return nil, fmt.Errorf("staff sign-in: %w", err)
	}
	node, err := joinCluster(ctx, d.cfg, d.pool, d.log.With("component", "cluster"))
	if err != nil {
		return nil, err
	}
	api, err := httpapi.New(httpapi.Config{SecureCookies: secureCookies(d.cfg), Draining: node.Draining},
		svc, auth, d.log.With("component", "api"))
	if err != nil {
		return nil, err
	}
	sweep, err := enableRecordingAccess(ctx, d.cfg.Recording, svc, api, d.log.With("component", "recording-access"))
	if err != nil {
		return nil, err
	}
	ice, err := iceServers(d.cfg.TURN, d.log.With("component", "turn"))
	if err != nil {
		return nil, err
	}
	sig, err := signaling.NewServer(signaling.Config{AllowedOrigins: d.cfg.Server.AllowedOrigins,
		ResumeGrace: d.cfg.Media.ResumeGrace, ICEServers: ice},
		wsAuth{api}, svc, hub, d.log.With("component", "signaling"))
	if err != nil {
		return nil, err
	}
	media, err := newSFU(d.cfg.Media, d.log.With("component", "sfu"))
	if err != nil {
		return nil, err
	}
	sig.EnableMedia(media, svc)
	placeRooms(node, sig)
	rec, err := buildRecorder(ctx, d.cfg.Recording, d.keys, media, svc, d.log.With("component", "recording"))
	if err != nil {
		return nil, err
	}
	if rec != nil {
		sig.EnableRecording(svc, rec)
	}
	api.Register(mux)
	auth.Register(mux)
	mux.Handle("GET /ws", node.Proxy(sig))
	web.Register(mux)
	return &app{svc: svc, hub: hub, worker: worker, ehr: ehrWorker, sig: sig, node: node, media: media, rec: rec, sweep: sweep, log: d.log}, nil
}

// wsAuth authenticates WebSocket sessions. The signaling server re-checks
// every open session periodically; those checks are not staff activity, so
// an idle clinician's console still reaches the idle logoff.
type wsAuth struct{ api *httpapi.API }

func (w wsAuth) Authenticate(r *http.Request) (visits.Actor, error) {
	if signaling.Rechecking(r.Context()) {
		r = r.WithContext(staffauth.WithoutActivity(r.Context()))
	}
	return w.api.Authenticate(r)
}

func visitsConfig(c config.Config) visits.Config {
	return visits.Config{
		PublicURL:         c.Server.PublicURL,
		LinkGrace:         c.Visits.LinkGrace,
		PatientSessionTTL: c.Visits.PatientSessionTTL,
		MaxCheckAttempts:  c.Visits.MaxCheckAttempts,
	}
}

func staffAuthConfig(c config.Config) staffauth.Config {
	a := c.Auth
	return staffauth.Config{
		Issuer:                a.Issuer,
		ClientID:              a.ClientID,
		ClientSecret:          a.ClientSecret.Value(),
		RedirectURL:           a.RedirectURL,
		PostLogoutRedirectURL: a.PostLogoutRedirectURL,
		RolesClaim:            a.RolesClaim,
		ClinicsClaim:          a.ClinicsClaim,
		RequireMFA:            a.RequireMFA,
		IdleTimeout:           a.IdleTimeout,
		AbsoluteTimeout:       a.AbsoluteTimeout,
		APIAudience:           a.APIAudience,
		CookieSecure:          secureCookies(c),
	}
}

// secureCookies is false only for a plain-http public URL, which the
// config allows on loopback alone.
func secureCookies(c config.Config) bool {
	return c.Server.TLS() || strings.HasPrefix(c.Server.PublicURL, "https://")
}

// runBackground runs the event hub, the notification worker and the EHR
// worker until ctx ends, and ends the WebSocket sessions then. The returned
// function waits for all of it.
func (a *app) runBackground(ctx context.Context) (wait func() error) {
	errc := make(chan error, 6)
	go func() { errc <- named("retention sweeper", a.runSweeper(ctx)) }()
	go func() { errc <- named("cluster node", a.node.Run(ctx)) }()
	go func() { errc <- named("event hub", a.hub.Run(ctx)) }()
	go func() { errc <- named("notification worker", a.worker.Run(ctx)) }()
	go func() {
		if a.ehr == nil {
			errc <- nil
			return
		}
		errc <- named("EHR worker", a.ehr.Run(ctx))
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err := a.sig.Shutdown(sctx)
		if a.rec != nil {
			a.rec.Close() // after the sessions: finishes uploads and manifests
		}
		errc <- errors.Join(named("signaling shutdown", err), named("media shutdown", a.media.Close()))
	}()
	return func() error {
		var errs []error
		for range 6 {
			errs = append(errs, <-errc)
		}
		return errors.Join(errs...)
	}
}

func named(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
