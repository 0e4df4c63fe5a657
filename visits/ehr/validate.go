package ehr

import (
	"net/url"
	"regexp"
	"strings"
	"time"
)

// refPattern is a relative literal reference Type/id (FHIR id: 1-64 of
// [A-Za-z0-9-.]).
var refPattern = regexp.MustCompile(`^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$`)

func checkRef(field, ref, wantType string) error {
	if !refPattern.MatchString(ref) {
		return &InputError{Field: field, Reason: "not a Type/id reference"}
	}
	if wantType != "" && !strings.HasPrefix(ref, wantType+"/") {
		return &InputError{Field: field, Reason: "must reference a " + wantType}
	}
	return nil
}

func checkIdentifier(field, system, value string) error {
	u, err := url.Parse(system)
	if err != nil || u.Scheme == "" {
		return &InputError{Field: field + ".system", Reason: "not an absolute URI"}
	}
	if value == "" || len(value) > 256 {
		return &InputError{Field: field + ".value", Reason: "empty or longer than 256"}
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return &InputError{Field: field, Reason: "missing"}
	}
	return nil
}

// fhirTime formats t as a FHIR dateTime/instant in UTC to the millisecond.
func fhirTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
