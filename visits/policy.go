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

// canMessagePatient: send a short message to a patient in the waiting room.
// Any clinician of the clinic (a colleague may say the assigned clinician
// is running late).
func canMessagePatient(a Actor, clinic uuid.UUID) bool {
	return canRunWaitingRoom(a, clinic)
}

// canReadNote: a visit's encounter note (draft and signed versions) is
// clinical content: the clinicians of the clinic.
func canReadNote(a Actor, clinic uuid.UUID) bool { return canReadClinical(a, clinic) }

// canWriteNote: save, sign, amend and retract a visit's note. Only the
// clinician the visit is assigned to (a pool visit is nobody's yet).
func canWriteNote(a Actor, clinic uuid.UUID, clinician *uuid.UUID) bool {
	return canReadClinical(a, clinic) && clinician != nil && *clinician == a.StaffID && a.StaffID != uuid.Nil
}
