package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// jsonError explains what is wrong with a body without quoting it.
type jsonError struct{ msg, field string }

func (e *jsonError) Error() string { return e.msg }

// decode reads exactly one JSON object into dst: the content type must be
// JSON, the body at most the configured size, and unknown fields are refused.
func (a *API) decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errMediaType
	}
	body := http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return errTooLarge
		}
		return &jsonError{msg: "the body must hold a single JSON object"}
	}
	return nil
}

func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func jsonProblem(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case tooLarge(err):
		return errTooLarge
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return errBadJSON
	case errors.Is(err, io.EOF):
		return &jsonError{msg: "the body is empty"}
	case errors.As(err, &typ):
		return &jsonError{msg: fmt.Sprintf("%s has the wrong type (want %s)", typ.Field, typ.Type), field: typ.Field}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &jsonError{msg: "unknown field " + f, field: f}
	}
	// time.Time and other TextUnmarshalers: say which kind of value is wrong
	// without echoing it.
	return &jsonError{msg: "a value has the wrong format (times are RFC 3339, ids are UUIDs)"}
}
