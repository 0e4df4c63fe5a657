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

// canManageRetention: read and set a clinic's recording retention. Admins
// of the clinic (an admin acts in every clinic).
func canManageRetention(a Actor, clinic uuid.UUID) bool {
	return a.IsStaff() && a.Has(RoleAdmin) && a.InClinic(clinic)
}

// canListRecordings: see which recordings and objects a visit has (no
// media). Clinicians of the clinic and admins.
func canListRecordings(a Actor, clinic uuid.UUID) bool {
	return a.IsStaff() && a.InClinic(clinic) && (a.Has(RoleClinician) || a.Has(RoleAdmin))
}

// canPlayRecording: get a playback link. Least privilege: the clinician
// the visit is assigned to, and admins (compliance review); not other
// clinicians of the clinic, never schedulers.
func canPlayRecording(a Actor, clinic uuid.UUID, clinician *uuid.UUID) bool {
	if !a.IsStaff() || !a.InClinic(clinic) {
		return false
	}
	if a.Has(RoleAdmin) {
		return true
	}
	return a.Has(RoleClinician) && clinician != nil && a.StaffID != uuid.Nil && *clinician == a.StaffID
}

// canRequestRelease: record a patient's request for a copy of a recording
// on their behalf. Any staff member of the clinic (front desk included).
func canRequestRelease(a Actor, clinic uuid.UUID) bool {
	return a.IsStaff() && a.InClinic(clinic) &&
		(a.Has(RoleScheduler) || a.Has(RoleClinician) || a.Has(RoleAdmin))
}

// canDecideRelease: approve or deny a release request, and issue the
// approved request's link. Admins of the clinic only.
func canDecideRelease(a Actor, clinic uuid.UUID) bool {
	return a.IsStaff() && a.Has(RoleAdmin) && a.InClinic(clinic)
}
