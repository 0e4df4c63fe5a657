-- EHR writeback over FHIR R4: each clinic's EHR profile, the staff's
-- Practitioner ids in the EHR, the Encounter id given at scheduling (epic_like
-- profile), the transactional outbox of EHR jobs and the map of what we
-- wrote where.
--
-- A job holds ids and versions only, never note text or patient data: the
-- worker reads (and unseals) those at delivery time. The EHR's
-- OperationOutcome of a failed attempt can echo submitted values, so it is
-- sealed ("ehr_jobs/<id>/outcome") and shown to admins only; last_error is
-- PHI-free (step, HTTP status, issue codes and FHIRPath expressions).
-- Note versions are referenced by (visit_id, version) without a foreign
-- key: a key to note_versions would let TRUNCATE fail before its
-- immutability trigger speaks.

-- +goose Up
CREATE TABLE clinic_ehr (
    clinic_id         uuid PRIMARY KEY REFERENCES clinics (id),
    -- none: no writeback; generic: we create and update the Encounter;
    -- epic_like: the Encounter exists in the EHR (its id is given at
    -- scheduling), is never written, and conditional create is not trusted.
    profile           text NOT NULL CHECK (profile IN ('none', 'generic', 'epic_like')),
    -- endpoint names an entry of the server configuration's ehr.endpoints.
    endpoint          text NOT NULL DEFAULT '',
    -- identifier_system is the system URI of our identifiers on the
    -- resources we write (Encounter: the visit id; DocumentReference: the
    -- visit id and note version).
    identifier_system text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL,
    CHECK (profile = 'none' OR (endpoint <> '' AND identifier_system <> ''))
);

ALTER TABLE staff ADD COLUMN ehr_practitioner_id text
    CHECK (ehr_practitioner_id ~ '^[A-Za-z0-9.-]{1,64}$');

-- Sealed like ehr_patient_id_enc (additional data "visits/<id>/ehr_encounter_id").
ALTER TABLE visits ADD COLUMN ehr_encounter_id_enc bytea;

CREATE TABLE ehr_jobs (
    id               bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    visit_id         uuid NOT NULL REFERENCES visits (id),
    clinic_id        uuid NOT NULL REFERENCES clinics (id),
    -- seq orders a visit's jobs: a job is delivered only after every
    -- earlier job of its visit was delivered.
    seq              integer NOT NULL CHECK (seq >= 1),
    kind             text NOT NULL CHECK (kind IN ('encounter_status', 'note_create', 'note_amend', 'note_retract')),
    -- encounter_status: the FHIR Encounter.status and when the visit took it.
    encounter_status text CHECK (encounter_status IN ('arrived', 'in-progress', 'finished', 'cancelled')),
    status_at        timestamptz,
    -- note jobs: the signed version (and, for an amendment, the one it replaces).
    note_version     integer,
    supersedes       integer,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'in_flight', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_error       text NOT NULL DEFAULT '',
    outcome_enc      bytea,
    -- The resource the job produced or changed, as "Type/id", and its version.
    fhir_ref         text NOT NULL DEFAULT '',
    fhir_version     text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (visit_id, seq),
    CHECK ((kind = 'encounter_status') = (encounter_status IS NOT NULL AND status_at IS NOT NULL)),
    CHECK ((kind = 'encounter_status') = (note_version IS NULL)),
    CHECK ((kind = 'note_amend') = (supersedes IS NOT NULL)),
    CHECK ((state = 'in_flight') = (lease_until IS NOT NULL))
);
CREATE INDEX ehr_jobs_due ON ehr_jobs (next_attempt_at, id) WHERE state IN ('pending', 'in_flight');
CREATE INDEX ehr_jobs_state ON ehr_jobs (state, id);
CREATE INDEX ehr_jobs_clinic ON ehr_jobs (clinic_id, id);

-- Our visits and their Encounter in the EHR (generic profile: the one we
-- created).
CREATE TABLE ehr_encounters (
    visit_id     uuid PRIMARY KEY REFERENCES visits (id),
    endpoint     text NOT NULL,
    encounter_id text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Our signed note versions and their DocumentReference (and Provenance) in
-- the EHR.
CREATE TABLE ehr_documents (
    visit_id      uuid NOT NULL REFERENCES visits (id),
    note_version  integer NOT NULL,
    endpoint      text NOT NULL,
    document_id   text NOT NULL,
    provenance_id text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (visit_id, note_version)
);

-- +goose Down
DROP TABLE ehr_documents;
DROP TABLE ehr_encounters;
DROP TABLE ehr_jobs;
ALTER TABLE visits DROP COLUMN ehr_encounter_id_enc;
ALTER TABLE staff DROP COLUMN ehr_practitioner_id;
DROP TABLE clinic_ehr;
