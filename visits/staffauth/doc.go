// Package staffauth signs clinic staff in with any standard OpenID provider
// (authorization code flow with PKCE S256, discovered through go-oidc) and
// keeps their sessions in PostgreSQL.
//
// Interactive sign-in: GET /auth/login stores state, nonce and PKCE verifier
// in oidc_logins (keyed by a hash of the state bound to this browser through
// a short-lived SameSite=Lax cookie, single use, ten minutes), the callback
// verifies the ID token (signature, issuer, audience, expiry, nonce), checks
// MFA through "amr" when required, refreshes the staff row and its clinic
// memberships from the claims and opens a staff_sessions row. The browser
// holds only a random session token (HttpOnly, SameSite=Strict); the
// database holds its SHA-256. Sessions end after IdleTimeout without
// activity, after AbsoluteTimeout in any case, or at logout.
//
// Claims: the roles claim keeps only the visits roles (scheduler,
// clinician, admin). The clinics claim holds clinic slugs, mapped to clinic
// ids; unknown slugs are ignored. When an ID token carries no clinics claim
// at all, the memberships already stored for the staff member (for example
// provisioned by an administrator) are kept; roles always come from the
// token.
//
// Bearer tokens: "Authorization: Bearer <JWT access token>" is verified
// against the provider's JWKS with the API audience. A token whose subject
// is the client itself (sub equals client_id or azp, or neither is present)
// is a client-credentials token: Actor.Kind is ActorAPIClient and Actor.ID
// the client id. A token issued to a user (sub differs from the client) is
// that staff member acting through a client: Actor.Kind is ActorStaff with
// the same staff row as their interactive sign-in, and RequireMFA applies to
// its "amr" claim. ID tokens (carrying nonce, at_hash or c_hash) are refused
// as bearer tokens. Either kind upserts a staff row so the actor has a
// StaffID; the row is cached in memory per subject.
package staffauth
