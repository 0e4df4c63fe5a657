package visits

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	fhirID  = regexp.MustCompile(`^[A-Za-z0-9.\-]{1,64}$`)
	stateRE = regexp.MustCompile(`^[A-Z]{2}$`)
)

// usStates are the places a patient may say they are: the states, DC and
// the territories.
var usStates = map[string]bool{}

func init() {
	for _, s := range strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS
		MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP`) {
		usStates[s] = true
	}
}

func validText(field, s string, min, max int) error {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < min || n > max {
		return invalid(field, "must be between "+itoa(min)+" and "+itoa(max)+" characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// parseDate reads a YYYY-MM-DD date of birth that lies in the past.
func parseDOB(field, s string, now time.Time) (string, error) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return "", invalid(field, "must be a date as YYYY-MM-DD")
	}
	if d.Year() < 1900 || d.After(now) {
		return "", invalid(field, "must be a date between 1900 and today")
	}
	return d.Format(time.DateOnly), nil
}

func (p *Patient) validate(now time.Time) error {
	p.Name = strings.TrimSpace(p.Name)
	if err := validText("patient.name", p.Name, 1, 200); err != nil {
		return err
	}
	dob, err := parseDOB("patient.date_of_birth", p.DateOfBirth, now)
	if err != nil {
		return err
	}
	p.DateOfBirth = dob
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil || a.Address != p.Email || len(p.Email) > 254 {
			return invalid("patient.email", "must be a plain e-mail address")
		}
	}
	if p.Phone != "" && !phoneRE.MatchString(p.Phone) {
		return invalid("patient.phone", "must be an E.164 number such as +15555550123")
	}
	if p.EHRPatientID != "" && !fhirID.MatchString(p.EHRPatientID) {
		return invalid("patient.ehr_patient_id", "must be a FHIR id (letters, digits, '-' and '.', up to 64)")
	}
	return nil
}

func validateWindow(startsAt time.Time, minutes int, now time.Time) error {
	if startsAt.IsZero() {
		return invalid("starts_at", "is required")
	}
	if startsAt.Before(now.Add(-24*time.Hour)) || startsAt.After(now.AddDate(2, 0, 0)) {
		return invalid("starts_at", "must be within the last day and the next two years")
	}
	if minutes < 5 || minutes > 480 {
		return invalid("duration_minutes", "must be between 5 and 480")
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
