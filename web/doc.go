// Package web serves the embedded browser pages: a landing page with the
// staff sign-in link, the patient page at /join (link, date-of-birth check,
// check-in, waiting room, call), the staff call page at /call (controls,
// guest invitations, end of visit), the guest page at /guest (link,
// device check, wait for admission, call) and the admin page at /admin
// (EHR writes with retry, clinic EHR settings, recording retention, a
// visit's recordings: playback and release of information). Plain ES
// modules and CSS, no build step; call.js holds the shared WebRTC call (perfect negotiation as
// the polite peer against the SFU), controls.js the in-call controls. Pages use no
// inline script or style, so they work under the server's strict CSP.
package web
