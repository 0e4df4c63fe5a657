package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/televisit/televisit/visits"
)

// StaffAuth authenticates staff: a session cookie or a bearer token.
// It answers visits.ErrUnauthorized when the request carries neither.
type StaffAuth interface {
	Authenticate(r *http.Request) (visits.Actor, error)
}

// Config configures the API.
type Config struct {
	// SecureCookies marks the patient and guest cookies Secure; off only
	// in dev on http://127.0.0.1.
	SecureCookies bool
	// MaxBodyBytes limits request bodies. Default 64 KiB.
	MaxBodyBytes int64
	// CheckInPerMinute and CheckInBurst limit link and knowledge-check
	// attempts per client address. Defaults 20 and 10.
	CheckInPerMinute, CheckInBurst int
	// Draining, when set and true, makes /readyz answer 503: the node is
	// shutting down and the load balancer should send new clients elsewhere.
	Draining func() bool
}

func (c *Config) validate() error {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.CheckInPerMinute == 0 {
		c.CheckInPerMinute = 20
	}
	if c.CheckInBurst == 0 {
		c.CheckInBurst = 10
	}
	if c.MaxBodyBytes < 1024 || c.CheckInPerMinute < 1 || c.CheckInBurst < 1 {
		return errors.New("httpapi: MaxBodyBytes, CheckInPerMinute or CheckInBurst out of range")
	}
	return nil
}

// PatientCookie holds the patient session token.
const PatientCookie = "tv_patient"

// API serves /api/v1, /healthz and /readyz.
type API struct {
	cfg       Config
	svc       *visits.Service
	staffAuth StaffAuth
	log       *slog.Logger
	checkIn   *ipLimiter
	// recordings holds recording access (SetRecordings); empty answers 503.
	// A pointer: withBodyLimit copies the API.
	recordings *atomic.Pointer[visits.Recordings]
}

// New returns the API.
func New(cfg Config, svc *visits.Service, staff StaffAuth, log *slog.Logger) (*API, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if svc == nil || staff == nil || log == nil {
		return nil, errors.New("httpapi: service, staff auth and logger are required")
	}
	return &API{cfg: cfg, svc: svc, staffAuth: staff, log: log,
		checkIn:    newIPLimiter(cfg.CheckInPerMinute, cfg.CheckInBurst),
		recordings: new(atomic.Pointer[visits.Recordings])}, nil
}

// Route is one API route, for the mux and for the OpenAPI coverage test.
type Route struct {
	Method, Path string
	handler      func(*API) http.HandlerFunc
}

// Routes lists every route the API serves.
func Routes() []Route { return routes }

var routes = []Route{
	{"GET", "/healthz", (*API).healthz},
	{"GET", "/readyz", (*API).readyz},
	{"GET", "/api/v1/openapi.json", (*API).openapi},
	{"GET", "/api/v1/me", (*API).me},
	{"GET", "/api/v1/clinics", (*API).listClinics},
	{"GET", "/api/v1/clinics/{clinicID}/clinicians", (*API).listClinicians},
	{"GET", "/api/v1/clinics/{clinicID}/visits", (*API).listVisits},
	{"GET", "/api/v1/clinics/{clinicID}/waiting-room", (*API).waitingRoom},
	{"POST", "/api/v1/visits", (*API).createVisit},
	{"GET", "/api/v1/visits/{visitID}", (*API).getVisit},
	{"PATCH", "/api/v1/visits/{visitID}", (*API).reschedule},
	{"POST", "/api/v1/visits/{visitID}/cancel", (*API).cancel},
	{"POST", "/api/v1/visits/{visitID}/link", (*API).issueLink},
	{"DELETE", "/api/v1/visits/{visitID}/link", (*API).revokeLink},
	{"POST", "/api/v1/visits/{visitID}/admit", (*API).admit},
	{"POST", "/api/v1/visits/{visitID}/send-back", (*API).sendBack},
	{"POST", "/api/v1/visits/{visitID}/complete", (*API).complete},
	{"POST", "/api/v1/visits/{visitID}/no-show", (*API).noShow},
	{"POST", "/api/v1/visits/{visitID}/take", (*API).take},
	{"POST", "/api/v1/visits/{visitID}/hand-off", (*API).handOff},
	{"POST", "/api/v1/visits/{visitID}/guests", (*API).inviteGuest},
	{"GET", "/api/v1/visits/{visitID}/guests", (*API).listGuests},
	{"POST", "/api/v1/visits/{visitID}/guests/{guestID}/admit", (*API).admitGuest},
	{"POST", "/api/v1/visits/{visitID}/guests/{guestID}/remove", (*API).removeGuest},
	{"GET", "/api/v1/visits/{visitID}/note", (*API).getNote},
	{"PUT", "/api/v1/visits/{visitID}/note/draft", (*API).saveNoteDraft},
	{"POST", "/api/v1/visits/{visitID}/note/sign", (*API).signNote},
	{"POST", "/api/v1/visits/{visitID}/note/versions/{version}/retract", (*API).retractNote},
	{"POST", "/api/v1/patient/link", (*API).openLink},
	{"POST", "/api/v1/patient/session", (*API).verifyPatient},
	{"DELETE", "/api/v1/patient/session", (*API).endPatientSession},
	{"GET", "/api/v1/patient/visit", (*API).patientVisit},
	{"POST", "/api/v1/patient/check-in", (*API).patientCheckIn},
	{"POST", "/api/v1/guest/session", (*API).startGuestSession},
	{"DELETE", "/api/v1/guest/session", (*API).endGuestSession},
	{"GET", "/api/v1/guest/visit", (*API).guestVisit},
	{"GET", "/api/v1/audit", (*API).listAudit},
	{"GET", "/api/v1/ehr/jobs", (*API).listEHRJobs},
	{"POST", "/api/v1/ehr/jobs/{jobID}/retry", (*API).retryEHRJob},
	{"PUT", "/api/v1/ehr/practitioners/{staffID}", (*API).setPractitioner},
	{"GET", "/api/v1/clinics/{clinicID}/ehr", (*API).getClinicEHR},
	{"PUT", "/api/v1/clinics/{clinicID}/ehr", (*API).setClinicEHR},
	{"GET", "/api/v1/clinics/{clinicID}/recording-retention", (*API).getRecordingRetention},
	{"PUT", "/api/v1/clinics/{clinicID}/recording-retention", (*API).setRecordingRetention},
	{"GET", "/api/v1/recordings", (*API).listRecordings},
	{"POST", "/api/v1/recordings/{recordingID}/objects/{objectID}/playback", (*API).playback},
	{"POST", "/api/v1/recordings/{recordingID}/release-requests", (*API).requestRelease},
	{"GET", "/api/v1/recordings/{recordingID}/release-requests", (*API).listReleaseRequests},
	{"GET", "/api/v1/release-requests", (*API).pendingReleaseRequests},
	{"POST", "/api/v1/recordings/{recordingID}/release-requests/{requestID}/approve", (*API).approveRelease},
	{"POST", "/api/v1/recordings/{recordingID}/release-requests/{requestID}/deny", (*API).denyRelease},
	{"GET", "/api/v1/recordings/{recordingID}/release-requests/{requestID}/link", (*API).releaseLink},
}

// Register mounts every route on mux, and a problem response for unknown
// paths under /api/.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range routes {
		mux.HandleFunc(rt.Method+" "+rt.Path, rt.handler(a))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeProblem(w, r, visits.ErrNotFound)
	})
}
