package staffauth

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/televisit/televisit/visits"
)

// authenticateBearer verifies a JWT access token against the provider's
// keys and the API audience. See the package comment for how the actor's
// kind is decided.
func (a *Auth) authenticateBearer(r *http.Request, header string) (visits.Actor, error) {
	raw, ok := parseBearer(header)
	if !ok {
		return visits.Actor{}, visits.ErrUnauthorized
	}
	ctx := a.providerContext(r.Context())
	tok, err := a.apiVerifier.Verify(ctx, raw)
	if err != nil {
		a.log.Debug("bearer token refused", "err", err)
		return visits.Actor{}, visits.ErrUnauthorized
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return visits.Actor{}, visits.ErrUnauthorized
	}
	id, err := a.identityFromClaims(tok.Issuer, tok.Subject, claims)
	if err != nil || id.idTokenLike {
		return visits.Actor{}, visits.ErrUnauthorized
	}
	kind := bearerKind(id)
	if kind == visits.ActorAPIClient {
		id.subject = firstNonEmpty(id.clientID, id.azp, id.subject)
		id.name = id.subject
	} else if a.cfg.RequireMFA && !mfaSatisfied(id.amr, a.cfg.MFAMethods) {
		return visits.Actor{}, visits.ErrMFARequired
	}
	e, err := a.bearerStaff(r.Context(), id, kind, tok.Expiry)
	if err != nil {
		return visits.Actor{}, err
	}
	actor := visits.Actor{Kind: kind, ID: e.staffID.String(), StaffID: e.staffID, Roles: id.roles,
		ClinicIDs: e.clinicIDs, ClientAddr: clientAddr(r), UserAgent: r.UserAgent()}
	if kind == visits.ActorAPIClient {
		actor.ID = id.subject
	}
	return actor, nil
}

// bearerKind: a token whose subject is the client itself is a service
// (client credentials) token; otherwise it was issued to a person.
func bearerKind(id *identity) visits.ActorKind {
	client := firstNonEmpty(id.clientID, id.azp)
	if client == "" || client == id.subject {
		return visits.ActorAPIClient
	}
	return visits.ActorStaff
}

// bearerStaff returns the staff row (and clinic ids) of a bearer identity,
// from the cache when its roles and clinics are unchanged.
func (a *Auth) bearerStaff(ctx context.Context, id *identity, kind visits.ActorKind, exp time.Time) (cacheEntry, error) {
	key := cacheKey{kind: kind, issuer: id.issuer, subject: id.subject}
	sig := claimSignature(id)
	if e, ok := a.cache.get(key, sig, a.now()); ok {
		a.cache.sawToken(e.staffID, exp)
		return e, nil
	}
	var e cacheEntry
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		staffID, err := a.upsertBearerStaff(ctx, tx, id, kind)
		if err != nil {
			return err
		}
		clinicIDs, err := syncClinics(ctx, tx, staffID, id)
		e = cacheEntry{staffID: staffID, clinicIDs: clinicIDs, sig: sig}
		return err
	})
	if err != nil {
		return cacheEntry{}, fmt.Errorf("bearer token: staff row: %w", err)
	}
	a.cache.put(key, e, a.now())
	a.cache.sawToken(e.staffID, exp)
	return e, nil
}

// upsertBearerStaff: a service client gets (or refreshes) its own row; a
// person's token refreshes the row of their interactive sign-in, or
// creates it.
func (a *Auth) upsertBearerStaff(ctx context.Context, tx pgx.Tx, id *identity, kind visits.ActorKind) (uuid.UUID, error) {
	if kind == visits.ActorAPIClient {
		staffID, err := upsertStaff(ctx, tx, id, a.now())
		if err != nil {
			return staffID, err
		}
		_, err = tx.Exec(ctx, "UPDATE staff SET kind = 'api_client' WHERE id = $1 AND kind <> 'api_client'", staffID)
		return staffID, err
	}
	var staffID uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO staff (issuer, subject, display_name, email, roles) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (issuer, subject) DO UPDATE SET roles = excluded.roles RETURNING id`,
		id.issuer, id.subject, id.name, id.email, roleStrings(id.roles)).Scan(&staffID)
	if err != nil {
		return uuid.Nil, fmt.Errorf("upsert staff: %w", err)
	}
	return staffID, nil
}
