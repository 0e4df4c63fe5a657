package visits

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// change describes one guarded change of a visit row.
type change struct {
	action  string                          // audit action
	allowed func(Actor, uuid.UUID) bool     // policy on the visit's clinic
	to      Status                          // target state; "" keeps the state
	guard   func(a Actor, v *Visit) error   // extra checks on the locked row
	set     string                          // extra SET clause, may use $2..
	args    func(a Actor, v *Visit) []any   // values for $2..
	after   func(tx pgx.Tx, v *Visit) error // more writes in the same transaction
}

// apply locks the visit, checks the policy and the state machine, updates the
// row, publishes the change and audits it, all in one transaction. Two
// clinicians admitting at once serialise on the row lock: the second sees the
// new state and gets ErrConflict.
func (s *Service) apply(ctx context.Context, a Actor, id uuid.UUID, c change) (Visit, error) {
	ev := AuditEvent{Action: c.action, ResourceType: "visit", ResourceID: id.String(), VisitID: id}
	var out Visit
	err := s.inTx(ctx, c.action, func(tx pgx.Tx) error {
		clinic, err := visitClinic(ctx, tx, id)
		if err != nil {
			return err
		}
		if !c.allowed(a, clinic) {
			return ErrForbidden
		}
		v, err := s.loadVisit(ctx, tx, id, false, true)
		if err != nil {
			return err
		}
		if err := s.check(a, &v, c); err != nil {
			return err
		}
		if err := s.update(ctx, tx, a, &v, c); err != nil {
			return err
		}
		if c.after != nil {
			if err := c.after(tx, &v); err != nil {
				return err
			}
		}
		if out, err = s.loadVisit(ctx, tx, id, canReadClinical(a, clinic), false); err != nil {
			return err
		}
		if out.Status.Terminal() && !v.Status.Terminal() {
			if err := endGuests(ctx, tx, id, a.ID); err != nil { // a visit that ends ends its guests
				return err
			}
		}
		ev.Detail = map[string]any{"from": string(v.Status), "to": string(out.Status)}
		if err := encounterOutboxHook(ctx, tx, out, v.Status); err != nil { // the EHR job commits with the change
			return err
		}
		if err := notifyChange(ctx, tx, out, c.action); err != nil {
			return err
		}
		return Audit(ctx, tx, a, ev)
	})
	if errors.Is(err, ErrForbidden) || errors.Is(err, ErrConflict) {
		return Visit{}, s.deny(ctx, a, ev, err)
	}
	return out, err
}

func (s *Service) check(a Actor, v *Visit, c change) error {
	if c.to != "" && !CanMove(v.Status, c.to) {
		return conflict("visit is " + string(v.Status))
	}
	if c.guard != nil {
		return c.guard(a, v)
	}
	return nil
}

func (s *Service) update(ctx context.Context, tx pgx.Tx, a Actor, v *Visit, c change) error {
	q := "UPDATE visits SET updated_at = now(), version = version + 1"
	if c.to != "" {
		q += ", status = '" + string(c.to) + "'" // a Status constant, never input
	}
	if c.set != "" {
		q += ", " + c.set
	}
	args := []any{v.ID}
	if c.args != nil {
		args = append(args, c.args(a, v)...)
	}
	_, err := tx.Exec(ctx, q+" WHERE id = $1", args...)
	return err
}

// ConflictError says why a change is not possible now; safe to show.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Unwrap() error { return ErrConflict }

func conflict(reason string) error { return &ConflictError{Reason: reason} }
