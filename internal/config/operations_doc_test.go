package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// operationsDoc is the operations guide whose configuration reference must
// list every setting.
const operationsDoc = "../../docs/operations.md"

// referenceRow matches a row of the reference table: | `key` | ...
var referenceRow = regexp.MustCompile("(?m)^\\| `([a-z0-9_.\\[\\]]+)` \\|")

// TestOperationsDocListsEverySetting keeps docs/operations.md's
// configuration reference in step with Config: every setting (and every
// field of an EHR endpoint) has a row naming its environment variable, and
// no row names a setting that no longer exists.
func TestOperationsDocListsEverySetting(t *testing.T) {
	b, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatalf("the operations guide is missing: %v", err)
	}
	doc := string(b)
	rows := map[string]string{} // key -> its row
	for _, line := range strings.Split(doc, "\n") {
		if m := referenceRow.FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	known := map[string]bool{}
	for _, s := range Settings() {
		known[s.Key] = true
		row, ok := rows[s.Key]
		switch {
		case !ok:
			t.Errorf("%s: setting %s (%s) has no row in its configuration reference", operationsDoc, s.Key, s.Env)
		case s.Key != "ehr.endpoints" && !strings.Contains(row, "`"+s.Env+"`"):
			t.Errorf("%s: the row of %s does not name its environment variable %s", operationsDoc, s.Key, s.Env)
		}
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[EHREndpoint]()) {
		key := "ehr.endpoints[]." + strings.Split(f.Tag.Get("yaml"), ",")[0]
		known[key] = true
		if _, ok := rows[key]; !ok {
			t.Errorf("%s: EHR endpoint field %s has no row in its configuration reference", operationsDoc, key)
		}
	}
	for key := range rows {
		if !known[key] {
			t.Errorf("%s: the reference lists %s, which is not a setting", operationsDoc, key)
		}
	}
}
