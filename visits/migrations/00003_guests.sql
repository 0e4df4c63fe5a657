-- Guests (an interpreter, a family member, a caregiver) join a visit with
-- their own link (visit_links.kind = 'guest') and, after a clinician admits
-- them, their own media. A guest's display name may be a relative's name,
-- so it is sealed like the patient's (additional data
-- "visit_guests/<id>/display_name"). Guests never pass the patient's
-- knowledge check and never get a patient session: their sessions live in
-- guest_sessions, so no patient query can mistake one for the patient.

-- +goose Up
CREATE TABLE visit_guests (
    id               uuid PRIMARY KEY,
    visit_id         uuid NOT NULL REFERENCES visits (id),
    link_id          uuid NOT NULL UNIQUE REFERENCES visit_links (id),
    display_name_enc bytea NOT NULL,
    role             text NOT NULL CHECK (role IN ('interpreter', 'family', 'caregiver', 'other')),
    -- invited: the link has not been opened yet; waiting: in the waiting
    -- room; admitted: may have media while the visit is in progress;
    -- removed: by a clinician, for good; left: the visit ended.
    status           text NOT NULL DEFAULT 'invited'
                     CHECK (status IN ('invited', 'waiting', 'admitted', 'removed', 'left')),
    invited_by       uuid NOT NULL REFERENCES staff (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    waiting_since    timestamptz,
    admitted_at      timestamptz,
    admitted_by      uuid REFERENCES staff (id),
    removed_at       timestamptz,
    removed_by       text
);
CREATE INDEX visit_guests_visit ON visit_guests (visit_id, created_at);

CREATE TABLE guest_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash   bytea NOT NULL UNIQUE,
    guest_id     uuid NOT NULL REFERENCES visit_guests (id),
    visit_id     uuid NOT NULL REFERENCES visits (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX guest_sessions_guest ON guest_sessions (guest_id);

-- +goose Down
DROP TABLE guest_sessions;
DROP TABLE visit_guests;
