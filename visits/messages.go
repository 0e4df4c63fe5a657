package visits

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Messages to a waiting patient: a clinician of the clinic tells a patient
// in the waiting room something short ("Running 10 minutes late"). The text
// is PHI: sealed at rest, never logged, audited by id only, and never in a
// NOTIFY payload (the event only names the visit; the patient's session
// reads the text back through PatientMessages).

// EventPatientMessage is the kind of the event published when a message to
// a patient was stored.
const EventPatientMessage = "patient_message.send"

// MaxPatientMessageChars bounds a message's length in characters.
const MaxPatientMessageChars = 500

// PatientMessagesShown is how many of a visit's messages PatientMessages
// returns: the newest ones.
const PatientMessagesShown = 20

// PatientMessage is one message as the patient sees it.
type PatientMessage struct {
	ID   uuid.UUID `json:"id"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// messageAAD binds a sealed message text to its row.
func messageAAD(id uuid.UUID) []byte {
	return []byte("patient_messages/" + id.String() + "/text")
}

// cleanMessage trims text and checks it is 1 to MaxPatientMessageChars
// characters of plain text (line breaks and tabs allowed).
func cleanMessage(text string) (string, error) {
	text = strings.TrimSpace(text)
	n := utf8.RuneCountInString(text)
	bad := func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }
	if n < 1 || n > MaxPatientMessageChars || !utf8.ValidString(text) || strings.IndexFunc(text, bad) >= 0 {
		return "", invalid("text", "must be 1 to 500 characters of plain text")
	}
	return text, nil
}

// SendPatientMessage stores a message for the patient of a waiting visit,
// audits it and tells every process (the patient's socket may be on any of
// them). A visit that is not waiting is ErrConflict.
func (s *Service) SendPatientMessage(ctx context.Context, a Actor, visit uuid.UUID, text string) (PatientMessage, error) {
	text, err := cleanMessage(text)
	if err != nil {
		return PatientMessage{}, err
	}
	m := PatientMessage{ID: uuid.New(), Text: text}
	sealed, err := s.keys.Seal([]byte(text), messageAAD(m.ID))
	if err != nil {
		return PatientMessage{}, err
	}
	ev := AuditEvent{Action: "patient_message.send", ResourceType: "patient_message", ResourceID: m.ID.String(),
		VisitID: visit, Detail: map[string]any{"chars": utf8.RuneCountInString(text)}}
	err = s.inTx(ctx, ev.Action, func(tx pgx.Tx) error {
		clinic, status, err := lockMessageVisit(ctx, tx, visit)
		if err != nil {
			return err
		}
		if !canMessagePatient(a, clinic) {
			return ErrForbidden
		}
		if status != StatusWaiting {
			return conflict("visit is " + string(status))
		}
		if err := tx.QueryRow(ctx, `INSERT INTO patient_messages (id, visit_id, sender_id, text_enc)
			VALUES ($1, $2, $3, $4) RETURNING created_at`, m.ID, visit, a.StaffID, sealed).Scan(&m.At); err != nil {
			return err
		}
		if err := publish(ctx, tx, Event{Kind: EventPatientMessage, ClinicID: clinic, VisitID: visit, Status: status}); err != nil {
			return err
		}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) {
		return PatientMessage{}, s.deny(ctx, a, ev, err)
	}
	if err != nil {
		return PatientMessage{}, err
	}
	return m, nil
}

// lockMessageVisit reads the visit's clinic and state, holding the row
// against a concurrent change of state until the transaction ends.
func lockMessageVisit(ctx context.Context, tx pgx.Tx, visit uuid.UUID) (uuid.UUID, Status, error) {
	var clinic uuid.UUID
	var status Status
	err := tx.QueryRow(ctx, `SELECT clinic_id, status FROM visits WHERE id = $1 FOR SHARE`, visit).Scan(&clinic, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return clinic, status, ErrNotFound
	}
	return clinic, status, err
}

// PatientMessages returns the newest PatientMessagesShown messages of the
// patient's own visit, oldest first. Only the visit's patient may read
// them; a read that returns messages is audited.
func (s *Service) PatientMessages(ctx context.Context, a Actor, visit uuid.UUID) ([]PatientMessage, error) {
	ev := AuditEvent{Action: "patient_message.read", ResourceType: "patient_message", ResourceID: visit.String(), VisitID: visit}
	if a.Kind != ActorPatient || a.VisitID != visit || visit == uuid.Nil {
		return nil, s.deny(ctx, a, ev, ErrForbidden)
	}
	var out []PatientMessage
	err := s.inTx(ctx, "read patient messages", func(tx pgx.Tx) error {
		var err error
		if out, err = s.readMessages(ctx, tx, visit); err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		for i, m := range out {
			ids[i] = m.ID.String()
		}
		ev.Detail = map[string]any{"message_ids": ids}
		return Audit(ctx, tx, a, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PatientMessageHead returns the id of the newest message of the patient's
// own visit (uuid.Nil when there is none): a cheap check whether a session
// missed one. It reads no PHI and is not audited.
func (s *Service) PatientMessageHead(ctx context.Context, a Actor, visit uuid.UUID) (uuid.UUID, error) {
	if a.Kind != ActorPatient || a.VisitID != visit || visit == uuid.Nil {
		return uuid.Nil, ErrForbidden
	}
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT id FROM patient_messages WHERE visit_id = $1
		ORDER BY created_at DESC, id DESC LIMIT 1`, visit).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("visits: patient message head: %w", err)
	}
	return id, nil
}

func (s *Service) readMessages(ctx context.Context, tx pgx.Tx, visit uuid.UUID) ([]PatientMessage, error) {
	rows, err := tx.Query(ctx, `SELECT id, text_enc, created_at FROM patient_messages
		WHERE visit_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, visit, PatientMessagesShown)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (PatientMessage, error) {
		var m PatientMessage
		var sealed []byte
		if err := r.Scan(&m.ID, &sealed, &m.At); err != nil {
			return m, err
		}
		b, err := s.keys.Open(sealed, messageAAD(m.ID))
		m.Text = string(b)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}
