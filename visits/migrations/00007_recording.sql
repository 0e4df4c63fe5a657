-- Consent-gated recording of a visit. A recording is requested by the
-- visit's clinician; every participant in the room is asked (and anyone
-- who joins later); one "no" or a withdrawal stops it for everyone. The
-- consent rows keep who was asked, when, the exact text shown (text id,
-- version and the text itself), the answer and any withdrawal. Objects are
-- the per-participant WebM files (and the manifest) in object storage:
-- their keys carry only UUIDs, never PHI.

-- +goose Up
CREATE TABLE recordings (
    id           uuid PRIMARY KEY,
    visit_id     uuid NOT NULL REFERENCES visits (id),
    requested_by uuid NOT NULL REFERENCES staff (id),
    requested_at timestamptz NOT NULL,
    started_at   timestamptz,
    stopped_at   timestamptz,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'active', 'stopped')),
    stop_reason  text CHECK (stop_reason IN ('declined', 'withdrawn', 'stopped', 'error', 'ended')),
    manifest_key text,
    CHECK ((state = 'stopped') = (stopped_at IS NOT NULL))
);
-- At most one recording of a visit is pending or active at a time.
CREATE UNIQUE INDEX recordings_one_live ON recordings (visit_id) WHERE state <> 'stopped';

CREATE TABLE recording_consents (
    id             uuid PRIMARY KEY,
    recording_id   uuid NOT NULL REFERENCES recordings (id),
    participant_id text NOT NULL,
    asked_at       timestamptz NOT NULL,
    text_id        text NOT NULL,
    text_version   int NOT NULL,
    text_shown     text NOT NULL,
    checkin_answer text NOT NULL DEFAULT '' CHECK (checkin_answer IN ('', 'undecided', 'yes', 'no')),
    answer         text CHECK (answer IN ('yes', 'no')),
    answered_at    timestamptz,
    withdrawn_at   timestamptz,
    UNIQUE (recording_id, participant_id),
    CHECK ((answer IS NULL) = (answered_at IS NULL))
);

CREATE TABLE recording_objects (
    id             uuid PRIMARY KEY,
    recording_id   uuid NOT NULL REFERENCES recordings (id),
    participant_id text NOT NULL, -- '' for the manifest
    object_key     text NOT NULL UNIQUE,
    spool_path     text NOT NULL DEFAULT '',
    state          text NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'stored')),
    size           bigint,
    sha256         bytea,
    upload_started_at timestamptz NOT NULL,
    stored_at      timestamptz,
    CHECK ((state = 'stored') = (stored_at IS NOT NULL AND sha256 IS NOT NULL AND size IS NOT NULL))
);
CREATE INDEX recording_objects_recording ON recording_objects (recording_id);
CREATE INDEX recording_objects_uploading ON recording_objects (upload_started_at) WHERE state = 'uploading';

-- +goose Down
DROP TABLE recording_objects;
DROP TABLE recording_consents;
DROP TABLE recordings;
