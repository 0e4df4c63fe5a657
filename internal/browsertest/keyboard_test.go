package browsertest

import (
	"context"
	"strings"
	"testing"
)

// TestTabOrder: Tab visits the page's controls in document order with their
// accessible names, one radio of a group, skips hidden and disabled ones,
// reports a visible control taken out of the order (tabindex=-1) and one
// without a focus indicator, and stays inside an open modal dialog.
func TestTabOrder(t *testing.T) {
	srv := startTestServer(t)
	b := Start(t, WithName("keyboard"))
	ctx, cancel := context.WithTimeout(b.Context(), 2*pageTimeout)
	defer cancel()
	if err := Navigate(ctx, srv.URL+"/keyboard.html"); err != nil {
		t.Fatal(err)
	}
	// Focus somewhere in the middle first: the walk still starts at the top.
	if err := evalTrue(ctx, `(document.getElementById("open").focus(), true)`); err != nil {
		t.Fatal(err)
	}
	w, err := TabOrder(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range w.Order {
		got = append(got, f.String())
	}
	want := []string{
		`a#home link "Home"`,
		`input#name textbox "Name"`,
		`input#when Date "When"`,
		`input#red radio "Red"`,
		`button#open[open] button "Open the dialog"`,
		`button#icon button "Close the panel" (no focus indicator)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || !w.Wrapped {
		t.Errorf("tab order (wrapped %v):\n%s\nwant:\n%s", w.Wrapped, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(w.Unreached) != 1 || w.Unreached[0].ID != "off" || w.Unreached[0].Name != "Not reachable" {
		t.Errorf("unreached = %+v, want only #off", w.Unreached)
	}
	if !w.Has("open") || !w.Has("name") || w.Has("off") || w.Index("Home") != 0 || w.Index("Close the panel") != 5 {
		t.Errorf("Has: open %v name %v off %v; Index Home %d, icon %d", w.Has("open"), w.Has("name"), w.Has("off"),
			w.Index("Home"), w.Index("Close the panel"))
	}

	if err := evalTrue(ctx, `(document.getElementById("dialog").showModal(), true)`); err != nil {
		t.Fatal(err)
	}
	w, err = TabOrder(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, f := range w.Order {
		got = append(got, f.ID)
	}
	if strings.Join(got, " ") != "due note dialog-ok" || len(w.Unreached) != 0 {
		t.Errorf("tab order in the dialog %q, unreached %+v; want due note dialog-ok", got, w.Unreached)
	}
	if n, err := Eval[int](ctx, `document.querySelectorAll("#browsertest-tab-start").length`); err != nil || n != 0 {
		t.Errorf("the walk's start marker is left in the page (%d, %v)", n, err)
	}
}
