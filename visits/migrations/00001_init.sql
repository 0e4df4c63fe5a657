-- Televisit schema: clinics, staff, visits, links, sessions, outboxes, audit.
-- PHI columns end in _enc: AES-GCM ciphertext from internal/sealbox, with the
-- row id and column name as additional data, so a value cannot be moved to
-- another row or column without detection.

-- +goose Up
CREATE TABLE clinics (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone   text NOT NULL DEFAULT 'America/New_York',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Staff are identified by their OIDC issuer and subject; roles and clinic
-- memberships are refreshed from the ID token's claims at every sign-in.
CREATE TABLE staff (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer        text NOT NULL,
    subject       text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    roles         text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    UNIQUE (issuer, subject)
);

CREATE TABLE staff_clinics (
    staff_id  uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    clinic_id uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, clinic_id)
);
CREATE INDEX staff_clinics_clinic ON staff_clinics (clinic_id);

CREATE TABLE visits (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id            uuid NOT NULL REFERENCES clinics (id),
    clinician_id         uuid REFERENCES staff (id), -- NULL: the clinic's pool
    status               text NOT NULL DEFAULT 'scheduled' CHECK (status IN
                         ('scheduled', 'waiting', 'in_progress', 'completed', 'cancelled', 'no_show')),
    starts_at            timestamptz NOT NULL,
    duration_minutes     integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    patient_name_enc     bytea NOT NULL,
    patient_dob_enc      bytea NOT NULL,
    patient_contact_enc  bytea NOT NULL,
    ehr_patient_id_enc   bytea,
    reason_enc           bytea,
    location_state       text CHECK (location_state ~ '^[A-Z]{2}$'),
    device_test          jsonb,
    recording_consent    text NOT NULL DEFAULT 'undecided'
                         CHECK (recording_consent IN ('undecided', 'yes', 'no')),
    identity_verified_at timestamptz,
    waiting_since        timestamptz,
    admitted_at          timestamptz,
    admitted_by          uuid REFERENCES staff (id),
    ended_at             timestamptz,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    version              integer NOT NULL DEFAULT 1
);
CREATE INDEX visits_clinic_start ON visits (clinic_id, starts_at);
CREATE INDEX visits_clinician_start ON visits (clinician_id, starts_at);
CREATE INDEX visits_waiting ON visits (clinic_id, waiting_since) WHERE status = 'waiting';

-- Visit links: only the SHA-256 of the token is stored.
CREATE TABLE visit_links (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    visit_id        uuid NOT NULL REFERENCES visits (id),
    kind            text NOT NULL DEFAULT 'patient' CHECK (kind IN ('patient', 'guest')),
    token_hash      bytea NOT NULL UNIQUE,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_by      text,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_at       timestamptz
);
CREATE INDEX visit_links_visit ON visit_links (visit_id);

CREATE TABLE patient_sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash  bytea NOT NULL UNIQUE,
    visit_id    uuid NOT NULL REFERENCES visits (id),
    link_id     uuid NOT NULL REFERENCES visit_links (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX patient_sessions_visit ON patient_sessions (visit_id);

CREATE TABLE staff_sessions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash          bytea NOT NULL UNIQUE,
    staff_id            uuid NOT NULL REFERENCES staff (id),
    roles               text[] NOT NULL,
    clinic_ids          uuid[] NOT NULL,
    amr                 text[] NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    absolute_expires_at timestamptz NOT NULL,
    ended_at            timestamptz,
    end_reason          text
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Pending OIDC logins (state, nonce, PKCE verifier), short-lived.
CREATE TABLE oidc_logins (
    state_hash    bytea PRIMARY KEY,
    nonce         text NOT NULL,
    pkce_verifier text NOT NULL,
    return_to     text NOT NULL DEFAULT '/',
    expires_at    timestamptz NOT NULL
);

-- Outgoing visit-link messages. Recipient and body hold PHI and the link
-- token, so both are sealed.
CREATE TABLE notification_outbox (
    id              bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    visit_id        uuid NOT NULL REFERENCES visits (id),
    channel         text NOT NULL CHECK (channel IN ('email', 'sms', 'console')),
    recipient_enc   bytea NOT NULL,
    subject         text NOT NULL DEFAULT '',
    body_enc        bytea NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status = 'pending';

-- Audit trail: append-only and hash-chained (see visits/audit.go).
CREATE TABLE audit_events (
    seq           bigint PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor_type    text NOT NULL,
    actor_id      text NOT NULL,
    actor_role    text NOT NULL DEFAULT '',
    action        text NOT NULL,
    resource_type text NOT NULL,
    resource_id   text NOT NULL DEFAULT '',
    visit_id      uuid,
    outcome       text NOT NULL CHECK (outcome IN ('success', 'denied', 'failure')),
    client_addr   text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    detail        jsonb NOT NULL DEFAULT '{}',
    prev_hash     bytea NOT NULL,
    hash          bytea NOT NULL
);
CREATE INDEX audit_events_visit ON audit_events (visit_id, seq);

-- +goose StatementBegin
CREATE FUNCTION audit_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION audit_events_immutable();
DROP TABLE notification_outbox;
DROP TABLE oidc_logins;
DROP TABLE staff_sessions;
DROP TABLE patient_sessions;
DROP TABLE visit_links;
DROP TABLE visits;
DROP TABLE staff_clinics;
DROP TABLE staff;
DROP TABLE clinics;
