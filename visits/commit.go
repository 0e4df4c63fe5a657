package visits

import "errors"

// committedError carries an error out of a transaction that must still
// commit: a wrong answer's counter and its audit event are kept.
type committedError struct{ err error }

func (e committedError) Error() string { return e.err.Error() }

// commitWith makes inTx commit and then return err.
func commitWith(err error) error { return committedError{err} }

func unwrapCommit(err error) error {
	var c committedError
	if errors.As(err, &c) {
		return c.err
	}
	return err
}
