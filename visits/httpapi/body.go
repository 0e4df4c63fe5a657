package httpapi

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

// errWritten tells respond that the handler wrote its own response.
var errWritten = errors.New("response already written")

// withBody adapts a staff handler of /visits/{visitID} that takes a JSON
// body of type B.
func withBody[B any](a *API, fn func(*http.Request, visits.Actor, uuid.UUID, *B) (any, error)) http.HandlerFunc {
	return a.staff(func(w http.ResponseWriter, r *http.Request, actor visits.Actor) (any, error) {
		id, err := pathID(r, "visitID")
		if err != nil {
			return nil, err
		}
		var body B
		if err := a.decode(w, r, &body); err != nil {
			return nil, err
		}
		return fn(r, actor, id, &body)
	})
}
