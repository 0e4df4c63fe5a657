package visits

import "github.com/google/uuid"

// The authorization rules, in one place. Staff act only in their clinics
// (admins in all); patients only on their own visit through the patient
// methods.

// canSchedule: create, reschedule, cancel, issue and revoke links.
func canSchedule(a Actor, clinic uuid.UUID) bool {
	return a.InClinic(clinic) && (a.Has(RoleScheduler) || a.Has(RoleAdmin))
}

// canReadVisit: the visit's scheduling and demographic data.
func canReadVisit(a Actor, clinic uuid.UUID) bool {
	return a.InClinic(clinic) && (a.Has(RoleScheduler) || a.Has(RoleClinician) || a.Has(RoleAdmin))
}

// canReadClinical: the reason for the visit and, later, notes. Clinicians
// of the clinic only; schedulers and admins never.
func canReadClinical(a Actor, clinic uuid.UUID) bool {
	return a.InClinic(clinic) && a.Has(RoleClinician)
}

// canRunWaitingRoom: see the queue, admit, send back, complete, no-show,
// take from the pool, hand off.
func canRunWaitingRoom(a Actor, clinic uuid.UUID) bool {
	return a.InClinic(clinic) && a.Has(RoleClinician)
}
