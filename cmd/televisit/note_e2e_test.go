package main

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/televisit/televisit/internal/browsertest"
	"github.com/televisit/televisit/visits"
)

// noteStateJS: the note panel is in state and its status line starts with
// status.
func noteStateJS(state, status string) string {
	return fmt.Sprintf(`document.getElementById("note-panel")?.dataset.state === %q &&
		document.getElementById("note-status").textContent.startsWith(%q)`, state, status)
}

// noteVersionsJS: #note-versions lists exactly the versions with these
// statuses (version 1 first).
func noteVersionsJS(statuses ...visits.NoteStatus) string {
	var want []string
	for i, s := range statuses {
		want = append(want, fmt.Sprintf("%d:%s", i+1, s))
	}
	return fmt.Sprintf(`[...document.querySelectorAll("#note-versions li")].map((li) =>
		li.dataset.version + ":" + li.dataset.status).sort().join(" ") === %q`, strings.Join(want, " "))
}

// typeNote types text at the end of #note-text with real key events.
func typeNote(ctx context.Context, text string) error {
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#note-text"))); err != nil {
		return err
	}
	if err := evalJS(ctx, `(() => { const t = document.getElementById("note-text");
		t.selectionStart = t.selectionEnd = t.value.length; return document.activeElement === t; })()`); err != nil {
		return err
	}
	return chromedp.Do(ctx, chromedp.KeyEvent(text))
}

// TestBrowserNoteEditor: the clinician on /call types the encounter note,
// which saves itself; a reload shows the draft; signing lists version 1
// final; an amendment signed after it leaves version 1 amended and
// version 2 final; a save that lost a race with another tab offers a
// reload. The note text never reaches the browser console or the server
// log.
func TestBrowserNoteEditor(t *testing.T) {
	srv := startSeededServer(t, nil)
	shots := screenshotDir(t)
	ctx := context.Background()
	const dob = "1979-05-06"
	visit := srv.newVisit(t, "Noel Notetest", dob, "clinician")
	srv.checkIn(t, visit, dob, "no")
	clin := srv.clinicianActor()
	if _, err := srv.svc.Admit(ctx, clin, visit); err != nil {
		t.Fatal(err)
	}

	b := browsertest.Start(t, browsertest.WithName("note"))
	tab := b.Context()
	callURL := srv.base + "/call?visit=" + visit.String()
	step(t, tab, "the clinician signs in and lands on the call page", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
			return err
		}
		returnTo := "/call?visit=" + visit.String()
		if err := browsertest.Navigate(ctx, srv.base+"/auth/login?return_to="+url.QueryEscape(returnTo)); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, `!!document.getElementById("username")`, browserStepTimeout); err != nil {
			return err
		}
		if err := evalJS(ctx, `(() => { document.getElementById("username").value = "clinician";
			document.getElementById("password").value = "demo-clinician";
			document.querySelector("form").submit(); return true; })()`); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, `location.pathname === "/call" && `+noteStateJS("ready", "Not saved yet"), browserStepTimeout)
	})
	step(t, tab, "the editor is labelled and empty", func(ctx context.Context) error {
		return evalJS(ctx, `document.getElementById("note-heading").textContent === "Encounter note" &&
			document.getElementById("note-text").labels.length === 1 &&
			document.getElementById("note-status").getAttribute("role") === "status" &&
			document.getElementById("note-sign").disabled && document.getElementById("note-versions").children.length === 0`)
	})

	first := "S: itchy rash on both forearms for five days.\nA: contact dermatitis.\nP: hydrocortisone 1% twice daily."
	step(t, tab, "typing saves the draft", func(ctx context.Context) error {
		if err := typeNote(ctx, first); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, noteStateJS("saved", "Saved at "), browserStepTimeout)
	})
	note, err := srv.svc.GetNote(ctx, clin, visit)
	if err != nil || note.Draft.Text != first || note.Draft.Revision < 1 {
		t.Fatalf("draft on the server after typing: %v, revision %d, text equal %v", err, note.Draft.Revision, note.Draft.Text == first)
	}
	t.Logf("typing %d characters took %d draft saves", len(first), note.Draft.Revision)

	step(t, tab, "a reload shows the saved draft", func(ctx context.Context) error {
		if err := browsertest.Navigate(ctx, callURL); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, noteStateJS("saved", "Saved at "), browserStepTimeout); err != nil {
			return err
		}
		return evalJS(ctx, fmt.Sprintf(`document.getElementById("note-text").value === %q`, first))
	})
	step(t, tab, "signing lists version 1 as final", func(ctx context.Context) error {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#note-sign"))); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, noteStateJS("signed", "Signed version 1 at ")+" && "+noteVersionsJS(visits.NoteFinal)+
			` && document.getElementById("note-sign").textContent === "Sign amendment" &&
			document.getElementById("note-sign").disabled && !document.getElementById("note-text").readOnly`, browserStepTimeout)
	})

	addendum := "\nAddendum: patient called back, rash improving."
	step(t, tab, "an amendment is typed, saved and signed", func(ctx context.Context) error {
		if err := typeNote(ctx, addendum); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, noteStateJS("saved", "Saved at ")+
			` && !document.getElementById("note-sign").disabled`, browserStepTimeout); err != nil {
			return err
		}
		// The keyboard signs too: focus the button and press Enter.
		if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("#note-sign")), chromedp.KeyEvent("\r")); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, noteStateJS("signed", "Signed version 2 (amends version 1) at ")+" && "+
			noteVersionsJS(visits.NoteAmended, visits.NoteFinal), browserStepTimeout)
	})
	if err := browsertest.Screenshot(tab, filepath.Join(shots, "note-editor-amended.png")); err != nil {
		t.Errorf("screenshot: %v", err)
	}

	note, err = srv.svc.GetNote(ctx, clin, visit)
	if err != nil || len(note.Versions) != 2 || note.Versions[0].Status != visits.NoteAmended ||
		note.Versions[1].Status != visits.NoteFinal || note.Versions[1].Text != first+addendum ||
		*note.Versions[1].Supersedes != 1 {
		t.Fatalf("note on the server: %v, %d versions", err, len(note.Versions))
	}

	// Another tab saves first: this page's next save is refused and the
	// editor offers to reload.
	const elsewhere = "Changed in another tab."
	if _, err := srv.svc.SaveNoteDraft(ctx, clin, visit, elsewhere, note.Draft.Revision); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "a save on a stale revision offers a reload", func(ctx context.Context) error {
		if err := typeNote(ctx, " More."); err != nil {
			return err
		}
		if err := browsertest.WaitFor(ctx, noteStateJS("conflict", "The note was changed elsewhere. Reload it.")+
			` && !document.getElementById("note-reload").hidden && document.getElementById("note-sign").disabled`,
			browserStepTimeout); err != nil {
			return err
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#note-reload"))); err != nil {
			return err
		}
		return browsertest.WaitFor(ctx, noteStateJS("saved", "Saved at ")+
			fmt.Sprintf(` && document.getElementById("note-text").value === %q`, elsewhere), browserStepTimeout)
	})
	checkNoteA11y(t, tab)
	for _, m := range b.Messages() {
		if strings.Contains(m.Text, "rash") || strings.Contains(m.Text, "Addendum") {
			t.Errorf("the browser console carries the note: %q", m.Text)
		}
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %+v", ex)
	}
	if logs := srv.logs.String(); strings.Contains(logs, "rash") || strings.Contains(logs, "Addendum") {
		t.Error("the server log carries the note text")
	}
}

// checkNoteA11y fails on serious accessibility violations inside the note
// panel (the rest of the page belongs to other tests).
func checkNoteA11y(t *testing.T, tab context.Context) {
	t.Helper()
	vs, err := browsertest.CheckA11y(tab, "note editor")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		for _, n := range v.Nodes {
			if v.Serious() && strings.Contains(n.Target, "note") {
				t.Errorf("note editor: %s", v)
			}
		}
	}
}
