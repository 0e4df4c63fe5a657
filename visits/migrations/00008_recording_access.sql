-- Access to recordings and their lifetime: each clinic's retention policy,
-- what the retention sweeper needs on recording_objects, and release of
-- information (a patient's request for a copy, approved or denied by an
-- admin). Playback and release links are presigned URLs issued after their
-- audit event commits; nothing here stores a URL.

-- +goose Up
CREATE TABLE recording_retention (
    clinic_id  uuid PRIMARY KEY REFERENCES clinics (id),
    -- S3 object-lock mode: GOVERNANCE (privileged users may bypass it) or
    -- COMPLIANCE (nobody can shorten it).
    mode       text NOT NULL CHECK (mode IN ('GOVERNANCE', 'COMPLIANCE')),
    days       integer NOT NULL CHECK (days BETWEEN 1 AND 36500),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL
);

-- retain_until is the object's retain-until date as the store reports it
-- (filled by the sweeper when the recorder left it empty); deleted_at is
-- set once the sweeper deleted every version of the object; lease_until
-- marks a row a sweeper is working on (several processes may sweep).
ALTER TABLE recording_objects
    ADD COLUMN retain_until timestamptz,
    ADD COLUMN deleted_at   timestamptz,
    ADD COLUMN lease_until  timestamptz,
    ADD CONSTRAINT recording_objects_deleted_stored CHECK (deleted_at IS NULL OR state = 'stored');
CREATE INDEX recording_objects_sweep ON recording_objects (retain_until)
    WHERE state = 'stored' AND deleted_at IS NULL;

CREATE TABLE recording_release_requests (
    id           uuid PRIMARY KEY,
    recording_id uuid NOT NULL REFERENCES recordings (id),
    requester    text NOT NULL CHECK (requester IN ('patient')),
    -- Free text about the request, sealed ("recording_release_requests/<id>/note").
    note_enc     bytea,
    recorded_by  text NOT NULL,
    requested_at timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied')),
    decided_by   text,
    decided_at   timestamptz,
    links_issued integer NOT NULL DEFAULT 0 CHECK (links_issued >= 0),
    CHECK ((state = 'pending') = (decided_by IS NULL AND decided_at IS NULL))
);
CREATE INDEX recording_release_requests_recording ON recording_release_requests (recording_id);

-- +goose Down
DROP TABLE recording_release_requests;
DROP INDEX recording_objects_sweep;
ALTER TABLE recording_objects
    DROP CONSTRAINT recording_objects_deleted_stored,
    DROP COLUMN lease_until,
    DROP COLUMN deleted_at,
    DROP COLUMN retain_until;
DROP TABLE recording_retention;
