package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Focused describes an element that had the keyboard focus: its tag, id
// and data-action, and its role and accessible name as Chromium's
// accessibility tree computes them (what a screen reader announces).
type Focused struct {
	Tag    string `json:"tag"`
	ID     string `json:"id"`
	Action string `json:"action"` // data-action attribute, if any
	Role   string `json:"role"`
	Name   string `json:"name"`
	// NoRing: the focused element showed no focus indicator (neither an
	// outline nor a box shadow), which WCAG 2.4.7 asks for.
	NoRing bool `json:"noRing"`
}

// String is e.g. `button#admit "Admit the patient"`.
func (f Focused) String() string {
	s := strings.ToLower(f.Tag)
	if f.ID != "" {
		s += "#" + f.ID
	}
	if f.Action != "" {
		s += "[" + f.Action + "]"
	}
	s = fmt.Sprintf("%s %s %q", s, f.Role, f.Name)
	if f.NoRing {
		s += " (no focus indicator)"
	}
	return s
}

// TabWalk is the result of TabOrder.
type TabWalk struct {
	Order     []Focused // each element Tab focused, in order
	Unreached []Focused // visible, enabled controls that Tab never focused
	Wrapped   bool      // Tab came back to the start within maxPresses
}

// Has reports whether an element with this id, data-action or accessible
// name was focused.
func (w TabWalk) Has(key string) bool { return w.Index(key) >= 0 }

// Index is the position in Order of the first element with this id,
// data-action or accessible name, or -1.
func (w TabWalk) Index(key string) int {
	for i, f := range w.Order {
		if f.ID == key || f.Action == key || f.Name == key {
			return i
		}
	}
	return -1
}

// tabStartJS puts the sequential focus starting point at the top of the
// page, or of its open modal dialog (everything else is inert then): a
// temporary unfocusable-by-Tab element takes the focus, and the first Tab
// leaves it for the first control.
const tabStartJS = `(() => {
  const root = document.querySelector("dialog:modal") || document.body;
  const start = document.createElement("span");
  start.tabIndex = -1;
  start.id = "browsertest-tab-start";
  root.prepend(start);
  start.focus();
  window.__browsertestTab = {seen: new Set(), first: null, last: null};
  return document.activeElement === start;
})()`

// tabStepJS records the focused element after one Tab; it answers "wrap"
// when focus is back at the first element or left the page, "same" while
// Tab moves within one element (the fields of a date input), else "ok".
const tabStepJS = `(() => {
  document.getElementById("browsertest-tab-start")?.remove();
  const st = window.__browsertestTab, el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return "wrap";
  if (el === st.last) return "same";
  if (el === st.first) return "wrap";
  if (!st.first) st.first = el;
  st.last = el;
  st.seen.add(el);
  return "ok";
})()`

// maxSame bounds the Tab presses within one element: a date or time input
// has a few fields; more means the focus is stuck (a single control).
const maxSame = 8

// unreachedJS lists visible, enabled controls Tab never focused (of the open
// modal dialog only, when there is one). A radio group counts as reached
// when one of its radios was.
const unreachedJS = `(() => {
  const st = window.__browsertestTab;
  const root = document.querySelector("dialog:modal") || document;
  const sel = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1']), [contenteditable='true']";
  const radios = new Set([...st.seen].filter((e) => e.type === "radio").map((e) => e.form + "/" + e.name));
  const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" && !e.closest("[inert]");
  return [...root.querySelectorAll(sel)]
    .filter((e) => visible(e) && !e.disabled && !st.seen.has(e) && !(e.type === "radio" && radios.has(e.form + "/" + e.name)))
    .map((e) => ({tag: e.tagName, id: e.id, action: e.dataset.action || "", role: e.getAttribute("role") || "",
      name: e.getAttribute("aria-label") || (e.labels && e.labels[0] ? e.labels[0].textContent.trim() : e.textContent.trim()).slice(0, 60)}));
})()`

// TabOrder moves the focus to the top of the page (or of its open modal
// dialog), presses Tab up to maxPresses times through the DevTools protocol
// (Input.dispatchKeyEvent, as a keyboard does) and describes each focused
// element once (Tab also moves through the fields of a date input); it
// stops when the focus comes back to the first one. It also
// lists the visible controls that Tab never reached.
func TabOrder(ctx context.Context, maxPresses int) (TabWalk, error) {
	var w TabWalk
	if err := evalTrue(ctx, tabStartJS); err != nil {
		return w, fmt.Errorf("browsertest: tab order: start: %w", err)
	}
	same := 0
	for range maxPresses {
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			return w, fmt.Errorf("browsertest: tab order: press Tab: %w", err)
		}
		res, err := Eval[string](ctx, tabStepJS)
		if err != nil {
			return w, fmt.Errorf("browsertest: tab order: step: %w", err)
		}
		if res == "same" {
			if same++; same > maxSame {
				break // focus stuck on one control: nothing more to reach
			}
			continue
		}
		same = 0
		if res == "wrap" {
			w.Wrapped = true
			break
		}
		f, err := describeFocused(ctx)
		if err != nil {
			return w, err
		}
		w.Order = append(w.Order, f)
	}
	un, err := Eval[[]Focused](ctx, unreachedJS)
	if err != nil {
		return w, fmt.Errorf("browsertest: tab order: unreached controls: %w", err)
	}
	w.Unreached = un
	return w, nil
}

func evalTrue(ctx context.Context, js string) error {
	ok, err := Eval[bool](ctx, js)
	if err == nil && !ok {
		err = fmt.Errorf("%s returned false", js)
	}
	return err
}

// focusedJS describes the focused element as the page sees it.
const focusedJS = `(() => {
  const e = document.activeElement, cs = getComputedStyle(e);
  const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none";
  return {tag: e.tagName, id: e.id, action: e.dataset ? e.dataset.action || "" : "", noRing: !ring};
})()`

// describeFocused reads the focused element's tag, id, data-action and
// focus indicator from the page and its role and accessible name from the accessibility tree.
func describeFocused(ctx context.Context) (Focused, error) {
	var f Focused
	obj, err := Eval[*runtime.RemoteObject](ctx, `document.activeElement`)
	if err != nil {
		return f, fmt.Errorf("browsertest: tab order: focused element: %w", err)
	}
	defer func() {
		_, _ = chromedp.Call(ctx, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: obj.ObjectID})
	}()
	attrs, err := Eval[Focused](ctx, focusedJS)
	if err != nil {
		return f, fmt.Errorf("browsertest: tab order: focused element: %w", err)
	}
	f = attrs
	no := false
	tree, err := chromedp.Call(ctx, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{ObjectID: obj.ObjectID, FetchRelatives: &no})
	if err != nil {
		return f, fmt.Errorf("browsertest: tab order: accessibility node: %w", err)
	}
	if len(tree.Nodes) > 0 {
		f.Role = axString(tree.Nodes[0].Role)
		f.Name = axString(tree.Nodes[0].Name)
	}
	return f, nil
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return string(v.Value)
	}
	return s
}
