package httpapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/docs"
	"github.com/televisit/televisit/visits"
)

// These tests keep docs/openapi.json and the code in step. They read only
// the embedded document and the route table; no server or database is
// involved (the package's TestMain still runs first).

// openapiDoc is the part of an OpenAPI document the tests read.
type openapiDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters map[string]openapiParam  `json:"parameters"`
		Schemas    map[string]openapiSchema `json:"schemas"`
	} `json:"components"`
}

type openapiOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openapiParam             `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type openapiParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type openapiSchema struct {
	Ref                  string                   `json:"$ref"`
	Type                 any                      `json:"type"` // a string or a list of strings
	Format               string                   `json:"format"`
	Enum                 []any                    `json:"enum"`
	Properties           map[string]openapiSchema `json:"properties"`
	Required             []string                 `json:"required"`
	AdditionalProperties *bool                    `json:"additionalProperties"`
	Items                *openapiSchema           `json:"items"`
	AnyOf                []openapiSchema          `json:"anyOf"`
	OneOf                []openapiSchema          `json:"oneOf"`
}

var openapiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) openapiDoc {
	t.Helper()
	var d openapiDoc
	if err := json.Unmarshal(docs.OpenAPI, &d); err != nil {
		t.Fatalf("docs/openapi.json is not valid JSON of the expected shape: %v", err)
	}
	return d
}

// goPatternPath turns a ServeMux path pattern into an OpenAPI path
// template: "{name...}" becomes "{name}" and a trailing "{$}" goes.
func goPatternPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return strings.ReplaceAll(p, "...}", "}")
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIMatchesRoutes checks that docs/openapi.json describes exactly
// the routes in Routes(), with the same path parameter names, and that every
// operation has an operationId, a success response and, for the staff
// routes under /api/v1/visits and /api/v1/clinics, its 401 and 403.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d := loadOpenAPI(t)
	if !strings.HasPrefix(d.OpenAPI, "3.1") {
		t.Errorf(`"openapi" is %q, want 3.1.x`, d.OpenAPI)
	}

	inCode := map[string]bool{}
	for _, r := range Routes() {
		inCode[goPatternPath(r.Path)+" "+strings.ToLower(r.Method)] = true
	}
	inDoc := map[string]openapiOperation{}
	var problems []string
	for path, item := range d.Paths {
		var pathParams []openapiParam
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal(raw, &pathParams); err != nil {
				problems = append(problems, fmt.Sprintf("%s: parameters: %v", path, err))
			}
		}
		for key, raw := range item {
			if !slices.Contains(openapiMethods, key) {
				continue
			}
			var op openapiOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				problems = append(problems, fmt.Sprintf("%s %s: %v", key, path, err))
				continue
			}
			op.Parameters = append(op.Parameters, pathParams...)
			inDoc[path+" "+key] = op
		}
	}

	var missing, extra []string
	for k := range inCode {
		if _, ok := inDoc[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range inDoc {
		if !inCode[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, k := range missing {
		problems = append(problems, "route not in docs/openapi.json: "+k)
	}
	for _, k := range extra {
		problems = append(problems, "documented but not in Routes(): "+k)
	}

	ids := map[string]string{}
	keys := make([]string, 0, len(inDoc))
	for k := range inDoc {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		op := inDoc[k]
		path, _, _ := strings.Cut(k, " ")
		if op.OperationID == "" {
			problems = append(problems, k+": no operationId")
		} else if other, dup := ids[op.OperationID]; dup {
			problems = append(problems, fmt.Sprintf("%s: operationId %q also used by %s", k, op.OperationID, other))
		} else {
			ids[op.OperationID] = k
		}
		success := false
		for code := range op.Responses {
			if strings.HasPrefix(code, "2") {
				success = true
			}
		}
		if !success {
			problems = append(problems, k+": no 2xx response")
		}
		if strings.HasPrefix(path, "/api/v1/visits") || strings.HasPrefix(path, "/api/v1/clinics") {
			for _, code := range []string{"401", "403"} {
				if _, ok := op.Responses[code]; !ok {
					problems = append(problems, k+": no "+code+" response")
				}
			}
		}
		declared := map[string]bool{}
		for _, p := range op.Parameters {
			if p.Ref != "" {
				p = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "path" {
				declared[p.Name] = true
			}
		}
		for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				problems = append(problems, fmt.Sprintf("%s: path parameter %q is not declared", k, m[1]))
			}
		}
	}

	if len(problems) > 0 {
		t.Errorf("docs/openapi.json and Routes() differ:\n  %s", strings.Join(problems, "\n  "))
	}
}

// openapiStructs maps component schemas to the Go types they describe.
// Response types must list as required exactly the fields without
// omitempty, and allow null exactly for pointers without omitempty. Request
// types must refuse unknown fields (the decoder does).
var openapiStructs = []struct {
	schema  string
	typ     reflect.Type
	request bool
}{
	{"Problem", reflect.TypeFor[Problem](), false},
	{"ReleaseRequestList", reflect.TypeFor[visits.ReleaseRequestList](), false},
	{"PendingRelease", reflect.TypeFor[visits.PendingRelease](), false},
	{"PendingReleaseList", reflect.TypeFor[visits.PendingReleaseList](), false},
	{"Me", reflect.TypeFor[Me](), false},
	{"Visit", reflect.TypeFor[visits.Visit](), false},
	{"LinkState", reflect.TypeFor[visits.LinkState](), false},
	{"DeviceTest", reflect.TypeFor[visits.DeviceTest](), false},
	{"Patient", reflect.TypeFor[visits.Patient](), false},
	{"IssuedLink", reflect.TypeFor[visits.IssuedLink](), false},
	{"LinkInfo", reflect.TypeFor[visits.LinkInfo](), false},
	{"PatientSession", reflect.TypeFor[visits.PatientSession](), false},
	{"PatientView", reflect.TypeFor[visits.PatientView](), false},
	{"QueueEntry", reflect.TypeFor[visits.QueueEntry](), false},
	{"Clinic", reflect.TypeFor[visits.Clinic](), false},
	{"StaffMember", reflect.TypeFor[visits.StaffMember](), false},
	{"AuditRecord", reflect.TypeFor[visits.AuditRecord](), false},
	{"Guest", reflect.TypeFor[visits.Guest](), false},
	{"GuestView", reflect.TypeFor[visits.GuestView](), false},
	{"GuestSession", reflect.TypeFor[visits.GuestSession](), false},
	{"IssuedGuestLink", reflect.TypeFor[visits.IssuedGuestLink](), false},
	{"GuestInvite", reflect.TypeFor[visits.GuestInvite](), true},
	{"NewVisit", reflect.TypeFor[visits.NewVisit](), true},
	{"Reschedule", reflect.TypeFor[visits.Reschedule](), true},
	{"IssueLinkRequest", reflect.TypeFor[visits.IssueLinkRequest](), true},
	{"CheckIn", reflect.TypeFor[visits.CheckIn](), true},
	{"HandOffRequest", reflect.TypeFor[handOffBody](), true},
	{"LinkTokenRequest", reflect.TypeFor[linkBody](), true},
	{"VerifyPatientRequest", reflect.TypeFor[verifyBody](), true},
	{"EHRJob", reflect.TypeFor[visits.EHRJob](), false},
	{"EHRJobList", reflect.TypeFor[visits.EHRJobList](), false},
	{"EHRIssue", reflect.TypeFor[visits.EHRIssue](), false},
	{"ClinicEHR", reflect.TypeFor[visits.ClinicEHR](), false},
	{"StaffEHR", reflect.TypeFor[visits.StaffEHR](), false},
	{"ClinicEHRSettings", reflect.TypeFor[visits.ClinicEHRSettings](), true},
	{"PractitionerRequest", reflect.TypeFor[practitionerBody](), true},
	{"RecordingRetentionPolicy", reflect.TypeFor[visits.RecordingRetentionPolicy](), false},
	{"RecordingRetentionSettings", reflect.TypeFor[visits.RecordingRetentionSettings](), true},
	{"RecordingList", reflect.TypeFor[visits.RecordingList](), false},
	{"RecordingInfo", reflect.TypeFor[visits.RecordingInfo](), false},
	{"RecordingObjectInfo", reflect.TypeFor[visits.RecordingObjectInfo](), false},
	{"RecordingLink", reflect.TypeFor[visits.RecordingLink](), false},
	{"ReleaseRequestInput", reflect.TypeFor[visits.ReleaseRequestInput](), true},
	{"ReleaseRequest", reflect.TypeFor[visits.ReleaseRequest](), false},
}

type jsonField struct {
	name      string
	omitEmpty bool
	typ       reflect.Type
}

// jsonFields lists the fields encoding/json writes for t (no embedding in
// these types).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name, slices.Contains(strings.Split(opts, ","), "omitempty"), f.Type})
	}
	return out
}

func (s openapiSchema) allowsNull() bool {
	switch ty := s.Type.(type) {
	case string:
		return ty == "null"
	case []any:
		return slices.Contains(ty, any("null"))
	}
	for _, alt := range append(slices.Clone(s.AnyOf), s.OneOf...) {
		if alt.allowsNull() {
			return true
		}
	}
	return false
}

// TestOpenAPISchemasMatchStructs checks the component schemas against the
// Go structs: the JSON field names, required lists, nullability, the uuid
// and date-time formats, and the visit status enum.
func TestOpenAPISchemasMatchStructs(t *testing.T) {
	d := loadOpenAPI(t)
	uuidType, timeType := reflect.TypeFor[uuid.UUID](), reflect.TypeFor[time.Time]()
	for _, st := range openapiStructs {
		s, ok := d.Components.Schemas[st.schema]
		if !ok {
			t.Errorf("components.schemas.%s is missing", st.schema)
			continue
		}
		fields := jsonFields(st.typ)
		var names, required []string
		for _, f := range fields {
			names = append(names, f.name)
			if !f.omitEmpty {
				required = append(required, f.name)
			}
		}
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(names)
		sort.Strings(props)
		if !slices.Equal(names, props) {
			t.Errorf("%s: properties %v, the Go type %v has JSON fields %v", st.schema, props, st.typ, names)
		}
		if st.request {
			if s.AdditionalProperties == nil || *s.AdditionalProperties {
				t.Errorf("%s: request bodies refuse unknown fields: set additionalProperties to false", st.schema)
			}
		} else {
			got := slices.Clone(s.Required)
			sort.Strings(got)
			sort.Strings(required)
			if !slices.Equal(got, required) {
				t.Errorf("%s: required %v, want the fields without omitempty %v", st.schema, got, required)
			}
		}
		for _, f := range fields {
			p, ok := s.Properties[f.name]
			if !ok {
				continue
			}
			base := f.typ
			if base.Kind() == reflect.Pointer {
				base = base.Elem()
			}
			if wantNull := f.typ.Kind() == reflect.Pointer && !f.omitEmpty; p.allowsNull() != wantNull {
				t.Errorf("%s.%s: allows null = %v, want %v (pointer without omitempty)", st.schema, f.name, p.allowsNull(), wantNull)
			}
			item := &p
			if base.Kind() == reflect.Slice && base.Elem() == uuidType {
				base, item = uuidType, p.Items
			}
			switch {
			case item == nil:
				t.Errorf("%s.%s: array without items", st.schema, f.name)
			case base == uuidType && item.Format != "uuid":
				t.Errorf("%s.%s: format %q, want uuid", st.schema, f.name, item.Format)
			case base == timeType && item.Format != "date-time":
				t.Errorf("%s.%s: format %q, want date-time", st.schema, f.name, item.Format)
			}
		}
	}

	status := d.Components.Schemas["Status"]
	var enum []visits.Status
	for _, v := range status.Enum {
		s, _ := v.(string)
		if !visits.Status(s).Valid() {
			t.Errorf("Status enum: %v is not a visit status", v)
		}
		enum = append(enum, visits.Status(s))
	}
	for _, s := range []visits.Status{visits.StatusScheduled, visits.StatusWaiting, visits.StatusInProgress,
		visits.StatusCompleted, visits.StatusCancelled, visits.StatusNoShow} {
		if !slices.Contains(enum, s) {
			t.Errorf("Status enum lacks %q", s)
		}
	}
}
