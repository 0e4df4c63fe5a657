package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/televisit/televisit/internal/devoidc"
	"github.com/televisit/televisit/visits"
)

// demoResult is what the seed tells the banner.
type demoResult struct {
	Clinic      visits.Clinic
	PatientURL  string // a link issued at this start
	PatientDOB  string // the answer to its knowledge check
	PatientName string
	StartsAt    time.Time
}

// seedActor is the development seed acting with the admin role.
var seedActor = visits.Actor{Kind: visits.ActorSystem, ID: "dev-seed", Roles: []visits.Role{visits.RoleAdmin}}

// demoPatient is a made-up patient of the demo clinic.
type demoPatient struct {
	patient   visits.Patient
	in        time.Duration // starts this long after seeding
	clinician string        // demo username, "" for the clinic's pool
	channel   string        // how the seeded link is sent
}

var demoPatients = []demoPatient{
	{visits.Patient{Name: "Robin Example", DateOfBirth: "1984-03-12", Email: "robin@example.org", Phone: "+15555550101"}, 5 * time.Minute, "clinician", "email"},
	{visits.Patient{Name: "Taylor Sample", DateOfBirth: "1969-11-30", Email: "taylor@example.org", Phone: "+15555550102"}, 45 * time.Minute, "clinician2", "sms"},
	{visits.Patient{Name: "Morgan Placeholder", DateOfBirth: "2001-07-04", Email: "morgan@example.org"}, 90 * time.Minute, "", "email"},
}

// seedDemo provisions the demo clinic and its staff, creates demo visits
// when the clinic has none, and issues a fresh patient link.
func seedDemo(ctx context.Context, svc *visits.Service, pool *pgxpool.Pool, oc devoidc.Config, log *slog.Logger) (demoResult, error) {
	clinic, err := svc.EnsureClinic(ctx, devoidc.DemoClinic, "Demo Clinic", localZone())
	if err != nil {
		return demoResult{}, fmt.Errorf("seed clinic: %w", err)
	}
	staff, err := seedStaff(ctx, svc, oc, clinic.ID)
	if err != nil {
		return demoResult{}, err
	}
	var hasVisits bool
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM visits WHERE clinic_id = $1)", clinic.ID).Scan(&hasVisits); err != nil {
		return demoResult{}, fmt.Errorf("seed: look for visits: %w", err)
	}
	if !hasVisits {
		if err := seedVisits(ctx, svc, clinic.ID, staff); err != nil {
			return demoResult{}, err
		}
		log.Info("seeded the demo clinic", "visits", len(demoPatients))
	}
	res, err := freshPatientLink(ctx, svc, pool, clinic.ID, staff)
	res.Clinic = clinic
	return res, err
}

// seedStaff provisions the demo users (by the provider's subjects) in the
// clinic, so visits can be assigned before they first sign in, and returns
// their ids by username. API clients get their rows at first use.
func seedStaff(ctx context.Context, svc *visits.Service, oc devoidc.Config, clinic uuid.UUID) (map[string]uuid.UUID, error) {
	ids := map[string]uuid.UUID{}
	for _, u := range oc.Users {
		sub := u.Subject
		if sub == "" {
			sub = u.Username
		}
		id, err := svc.EnsureStaff(ctx, oc.Issuer, sub, u.Name, u.Roles, []uuid.UUID{clinic})
		if err != nil {
			return nil, fmt.Errorf("seed staff %s: %w", u.Username, err)
		}
		ids[u.Username] = id
	}
	return ids, nil
}

func seedVisits(ctx context.Context, svc *visits.Service, clinic uuid.UUID, staff map[string]uuid.UUID) error {
	now := time.Now().Truncate(time.Minute)
	for _, p := range demoPatients {
		v, err := createDemoVisit(ctx, svc, clinic, staff, p, now)
		if err != nil {
			return err
		}
		req := visits.IssueLinkRequest{Send: true, Channel: p.channel}
		if _, err := svc.IssueLink(ctx, seedActor, v.ID, req); err != nil {
			return fmt.Errorf("seed link: %w", err)
		}
	}
	return nil
}

func createDemoVisit(ctx context.Context, svc *visits.Service, clinic uuid.UUID, staff map[string]uuid.UUID, p demoPatient, now time.Time) (visits.Visit, error) {
	nv := visits.NewVisit{ClinicID: clinic, StartsAt: now.Add(p.in), DurationMinutes: 30,
		Reason: "Demo follow-up visit", Patient: p.patient}
	if id, ok := staff[p.clinician]; ok {
		nv.ClinicianID = &id
	}
	v, err := svc.CreateVisit(ctx, seedActor, nv)
	if err != nil {
		return v, fmt.Errorf("seed visit: %w", err)
	}
	return v, nil
}

// freshPatientLink issues a new link for the next demo visit that is still
// open (creating one when none is), so every start prints a working link.
func freshPatientLink(ctx context.Context, svc *visits.Service, pool *pgxpool.Pool, clinic uuid.UUID, staff map[string]uuid.UUID) (demoResult, error) {
	var id uuid.UUID
	err := pool.QueryRow(ctx, `SELECT id FROM visits WHERE clinic_id = $1 AND status IN ('scheduled', 'waiting')
		AND starts_at + make_interval(mins => duration_minutes) > now() + interval '10 minutes'
		ORDER BY starts_at LIMIT 1`, clinic).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		v, cerr := createDemoVisit(ctx, svc, clinic, staff, demoPatients[0], time.Now().Truncate(time.Minute))
		id, err = v.ID, cerr
	}
	if err != nil {
		return demoResult{}, fmt.Errorf("seed: pick a visit for the patient link: %w", err)
	}
	link, err := svc.IssueLink(ctx, seedActor, id, visits.IssueLinkRequest{})
	if err != nil {
		return demoResult{}, fmt.Errorf("seed: issue patient link: %w", err)
	}
	v, err := svc.GetVisit(ctx, seedActor, id)
	if err != nil {
		return demoResult{}, fmt.Errorf("seed: read the demo visit: %w", err)
	}
	return demoResult{PatientURL: link.URL, PatientDOB: v.Patient.DateOfBirth, PatientName: v.Patient.Name, StartsAt: v.StartsAt}, nil
}
