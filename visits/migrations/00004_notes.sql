-- Encounter notes. A visit has at most one working draft and any number of
-- signed versions. Text is sealed (internal/sealbox) with its place as
-- additional data: "note_drafts/<visit>/text/<revision>" for the draft and
-- "note_versions/<visit>/<version>/text" for a signed version, so a sealed
-- text cannot be moved to another visit, version or revision.
--
-- A signed version is immutable: triggers reject every UPDATE except the
-- one status change it may make (final -> amended when a later version
-- supersedes it, final -> entered_in_error when it is retracted), and every
-- DELETE and TRUNCATE, as for audit_events.

-- +goose Up
CREATE TABLE note_drafts (
    visit_id       uuid PRIMARY KEY REFERENCES visits (id),
    text_enc       bytea NOT NULL,
    -- Optimistic concurrency: every save and every signature adds one.
    revision       integer NOT NULL CHECK (revision >= 1),
    author_id      uuid NOT NULL REFERENCES staff (id),
    -- The signed version the draft's text equals; NULL once edited again.
    signed_version integer CHECK (signed_version >= 1),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE note_versions (
    visit_id       uuid NOT NULL REFERENCES visits (id),
    version        integer NOT NULL CHECK (version >= 1),
    text_enc       bytea NOT NULL,
    signed_by      uuid NOT NULL REFERENCES staff (id),
    signed_at      timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'final'
                   CHECK (status IN ('final', 'amended', 'entered_in_error')),
    supersedes     integer,
    retracted_by   uuid REFERENCES staff (id),
    retracted_at   timestamptz,
    retract_reason text CHECK (retract_reason IN
                   ('wrong_patient', 'wrong_visit', 'duplicate', 'documentation_error')),
    PRIMARY KEY (visit_id, version),
    FOREIGN KEY (visit_id, supersedes) REFERENCES note_versions (visit_id, version),
    CHECK (supersedes < version),
    CHECK ((status = 'entered_in_error') =
           (retracted_by IS NOT NULL AND retracted_at IS NOT NULL AND retract_reason IS NOT NULL)),
    CHECK (status = 'entered_in_error' OR
           (retracted_by IS NULL AND retracted_at IS NULL AND retract_reason IS NULL))
);
-- At most one version of a visit's note is in force.
CREATE UNIQUE INDEX note_versions_one_final ON note_versions (visit_id) WHERE status = 'final';

-- +goose StatementBegin
CREATE FUNCTION note_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = 'final' AND NEW.status IN ('amended', 'entered_in_error')
           AND NEW.visit_id = OLD.visit_id AND NEW.version = OLD.version
           AND NEW.text_enc = OLD.text_enc AND NEW.signed_by = OLD.signed_by
           AND NEW.signed_at = OLD.signed_at
           AND NEW.supersedes IS NOT DISTINCT FROM OLD.supersedes THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'signed note versions are immutable' USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER note_versions_immutable BEFORE UPDATE OR DELETE ON note_versions
    FOR EACH ROW EXECUTE FUNCTION note_versions_guard();
CREATE TRIGGER note_versions_no_truncate BEFORE TRUNCATE ON note_versions
    FOR EACH STATEMENT EXECUTE FUNCTION note_versions_guard();

-- +goose Down
DROP TABLE note_versions;
DROP FUNCTION note_versions_guard();
DROP TABLE note_drafts;
