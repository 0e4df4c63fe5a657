package signaling

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// Authenticator turns the upgrade request into the actor it speaks for. The
// HTTP layer provides one that accepts the staff session cookie or bearer
// token, or the patient session cookie. It returns the visits package's
// typed errors (visits.ErrUnauthorized, visits.ErrSessionEnded,
// visits.ErrForbidden, ...) when it refuses.
//
// The server calls it again every Config.ReauthInterval with a copy of the
// upgrade request (same headers and cookies) whose context answers true to
// Rechecking; such a re-check should not count as user activity (it must not
// extend a staff idle timeout).
type Authenticator interface {
	Authenticate(r *http.Request) (visits.Actor, error)
}

// Visits is the part of the visits service the sessions use
// (*visits.Service satisfies it).
type Visits interface {
	WaitingRoom(ctx context.Context, a visits.Actor, clinic uuid.UUID) ([]visits.QueueEntry, error)
	PatientView(ctx context.Context, a visits.Actor) (visits.PatientView, error)
	ListClinics(ctx context.Context, a visits.Actor) ([]visits.Clinic, error)
	SendPatientMessage(ctx context.Context, a visits.Actor, visit uuid.UUID, text string) (visits.PatientMessage, error)
	PatientMessages(ctx context.Context, a visits.Actor, visit uuid.UUID) ([]visits.PatientMessage, error)
	PatientMessageHead(ctx context.Context, a visits.Actor, visit uuid.UUID) (uuid.UUID, error)
}

// Events is the source of visit events (*visits.Hub satisfies it).
type Events interface {
	Subscribe() (<-chan visits.Event, func())
}

// recheckKey marks the context of a periodic re-authentication.
type recheckKey struct{}

// Rechecking reports whether ctx belongs to a periodic re-check of a live
// WebSocket session rather than to a request the user made.
func Rechecking(ctx context.Context) bool {
	v, _ := ctx.Value(recheckKey{}).(bool)
	return v
}

func withRecheck(ctx context.Context) context.Context {
	return context.WithValue(ctx, recheckKey{}, true)
}
