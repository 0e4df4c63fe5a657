package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestCheckA11y: under the test server's `default-src 'self'` (no inline
// script runs) axe-core is injected and reports the known violations of a
// page, an unlabelled input and low-contrast text, without any of the
// page's text; a clean page has none; a second check reuses the injection.
func TestCheckA11y(t *testing.T) {
	srv := startTestServer(t)
	b := Start(t, WithName("a11y"))
	ctx, cancel := context.WithTimeout(b.Context(), 2*pageTimeout)
	defer cancel()

	if err := Navigate(ctx, srv.URL+"/a11y-bad.html"); err != nil {
		t.Fatal(err)
	}
	if ran, err := Eval[bool](ctx, `window.inlineScriptRan === true`); err != nil || ran {
		t.Fatalf("the page's inline script ran (%v, %v): the CSP is not in force", ran, err)
	}
	vs, err := CheckA11y(ctx, "bad page")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]Violation{}
	for _, v := range vs {
		t.Logf("%s", v)
		found[v.ID] = v
		if strings.Contains(v.String(), "Patientname") || strings.Contains(v.String(), "<") {
			t.Errorf("violation carries the page's text or HTML: %s", v)
		}
	}
	label, ok := found["label"]
	if !ok || label.Impact != "critical" || len(label.Nodes) != 1 || label.Nodes[0].Target != "#unlabelled" {
		t.Errorf("label violation = %+v, want critical on #unlabelled", label)
	}
	contrast, ok := found["color-contrast"]
	if !ok || contrast.Impact != "serious" || len(contrast.Nodes) != 1 || contrast.Nodes[0].Target != "#faint" ||
		!strings.Contains(contrast.Nodes[0].Detail, "#c8c8c8 on #ffffff") {
		t.Errorf("color-contrast violation = %+v, want serious on #faint with its colours", contrast)
	}
	if len(found) != 2 {
		t.Errorf("violations %v, want exactly label and color-contrast", vs)
	}

	// RequireNoSeriousA11y fails on them.
	rec := &errorRecorder{TB: t}
	RequireNoSeriousA11y(rec, ctx, "bad page")
	if !strings.Contains(rec.msg, "2 serious or critical") || !strings.Contains(rec.msg, "#unlabelled") {
		t.Errorf("RequireNoSeriousA11y reported %q", rec.msg)
	}

	if err := Navigate(ctx, srv.URL+"/a11y-clean.html"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if vs := RequireNoSeriousA11y(t, ctx, "clean page"); len(vs) != 0 {
			t.Errorf("check %d of the clean page: %v", i+1, vs)
		}
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
}

// errorRecorder stands in for a testing.T to observe Errorf.
type errorRecorder struct {
	testing.TB
	msg string
}

func (e *errorRecorder) Helper() {}
func (e *errorRecorder) Errorf(format string, args ...any) {
	e.msg += fmt.Sprintf(format, args...)
}

// TestAxeMissing: without axe.min.js the error says to run make deps.
func TestAxeMissing(t *testing.T) {
	if _, err := os.Stat(AxePath()); err != nil {
		t.Fatalf("axe-core: %v; %v", err, ErrAxeMissing)
	}
	_, err := loadAxeFrom(t.TempDir() + "/axe.min.js")
	if !errors.Is(err, ErrAxeMissing) || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("error = %v", err)
	}
}
