package visits

import (
	"slices"

	"github.com/google/uuid"
)

// Role is a staff role, taken from the configured claim of the staff
// member's ID token or access token.
type Role string

// Staff roles.
const (
	RoleScheduler Role = "scheduler"
	RoleClinician Role = "clinician"
	RoleAdmin     Role = "admin"
)

// ActorKind says who is acting.
type ActorKind string

// Actor kinds, as recorded in the audit trail.
const (
	ActorStaff     ActorKind = "staff"      // a signed-in person
	ActorAPIClient ActorKind = "api_client" // a bearer token from client credentials
	ActorPatient   ActorKind = "patient"    // a patient session for one visit
	ActorGuest     ActorKind = "guest"      // a guest session (interpreter, family) for one visit
	ActorSystem    ActorKind = "system"     // the process itself (workers, dev seed)
	ActorAnonymous ActorKind = "anonymous"  // nobody proven yet (link check-in)
)

// Actor is the authenticated caller of a service method. Staff and API
// clients carry roles and clinic memberships; a patient carries the one
// visit their session is for.
type Actor struct {
	Kind      ActorKind
	ID        string      // staff id, client id, patient or guest session id; never PHI
	StaffID   uuid.UUID   // staff row, for staff and API clients
	Roles     []Role      // staff and API clients
	ClinicIDs []uuid.UUID // clinics the staff member belongs to
	VisitID   uuid.UUID   // patients and guests: the only visit they may see
	GuestID   uuid.UUID   // guests: their row in visit_guests
	// Where the request came from, for the audit trail.
	ClientAddr string
	UserAgent  string
}

// SystemActor is the process acting on its own behalf.
func SystemActor(component string) Actor {
	return Actor{Kind: ActorSystem, ID: component}
}

// Has reports whether the actor holds role r.
func (a Actor) Has(r Role) bool { return slices.Contains(a.Roles, r) }

// IsStaff reports whether the actor is a person or client of the clinic staff.
func (a Actor) IsStaff() bool { return a.Kind == ActorStaff || a.Kind == ActorAPIClient }

// InClinic reports whether a staff actor may act in clinic c. Admins act in
// every clinic; the system itself (seeding, tooling) only with a role.
func (a Actor) InClinic(c uuid.UUID) bool {
	if !a.IsStaff() && a.Kind != ActorSystem {
		return false
	}
	return a.Has(RoleAdmin) || slices.Contains(a.ClinicIDs, c)
}

// PrimaryRole is the role recorded in the audit trail.
func (a Actor) PrimaryRole() string {
	switch {
	case a.Kind == ActorPatient:
		return "patient"
	case a.Kind == ActorGuest:
		return "guest"
	case a.Has(RoleAdmin):
		return string(RoleAdmin)
	case a.Has(RoleClinician):
		return string(RoleClinician)
	case a.Has(RoleScheduler):
		return string(RoleScheduler)
	}
	return ""
}
