-- Short messages from a clinician to a patient in the waiting room
-- ("Running 10 minutes late"). The text is PHI: it is sealed like the
-- patient's columns (additional data "patient_messages/<id>/text"), never
-- logged, never put in an audit detail or a NOTIFY payload.

-- +goose Up
CREATE TABLE patient_messages (
    id         uuid PRIMARY KEY,
    visit_id   uuid NOT NULL REFERENCES visits (id),
    sender_id  uuid NOT NULL REFERENCES staff (id),
    text_enc   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patient_messages_visit ON patient_messages (visit_id, created_at);

-- +goose Down
DROP TABLE patient_messages;
