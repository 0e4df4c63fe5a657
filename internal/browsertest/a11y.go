package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// The accessibility check runs axe-core (an npm package that
// .ci/deps.d/axe.sh installs into internal/browsertest/axe) inside the page
// under test. The source is injected through the DevTools protocol
// (Runtime.evaluate), which the page's Content-Security-Policy does not
// govern: pages keep their strict `script-src 'self'`.

// AxeTags are the axe-core rule tags that CheckA11y runs: WCAG 2.0 and 2.1
// levels A and AA, and axe's best practices.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"}

// ErrAxeMissing: axe.min.js is not installed.
var ErrAxeMissing = errors.New("browsertest: axe-core is not installed; run: make deps (or: bash .ci/deps.d/axe.sh)")

// maxTargetLen bounds a CSS target in test output.
const maxTargetLen = 200

// Violation is one axe-core rule that the page breaks. It carries no HTML
// of the page (which may hold PHI), only CSS selectors of the nodes.
type Violation struct {
	ID      string `json:"id"`     // rule id, e.g. "color-contrast"
	Impact  string `json:"impact"` // minor, moderate, serious or critical
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []Node `json:"nodes"`
}

// Node is one element that breaks a rule.
type Node struct {
	Target string `json:"target"` // CSS selector (" >>> " between frames)
	Detail string `json:"detail"` // colours and ratio for contrast rules, else ""
}

// Serious reports whether the violation is serious or critical.
func (v Violation) Serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

// String is one line per node: impact, rule, help and target.
func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s (%s)", v.Impact, v.ID, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s", truncate(n.Target, maxTargetLen))
		if n.Detail != "" {
			fmt.Fprintf(&b, " [%s]", n.Detail)
		}
	}
	return b.String()
}

// axeRunJS runs axe on the document and keeps only what Violation holds:
// never the nodes' HTML or text. %s is the JSON array of tags.
const axeRunJS = `(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]});
  const target = (n) => n.target.map((t) => Array.isArray(t) ? t.join(" ") : String(t)).join(" >>> ");
  const detail = (n) => {
    const d = (n.any || []).concat(n.all || [], n.none || []).map((c) => c.data)
      .find((x) => x && typeof x === "object" && x.contrastRatio !== undefined);
    return d ? "contrast " + d.contrastRatio + ":1 of " + d.fgColor + " on " + d.bgColor +
      ", needs " + d.expectedContrastRatio : "";
  };
  return r.violations.map((v) => ({id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: target(n), detail: detail(n)}))}));
})()`

var axeSource = sync.OnceValues(func() (string, error) { return loadAxeFrom(AxePath()) })

// AxePath is where axe.min.js is installed: under this package's source
// directory, in axe/node_modules.
func AxePath() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("axe", "node_modules", "axe-core", "axe.min.js")
	}
	return filepath.Join(filepath.Dir(file), "axe", "node_modules", "axe-core", "axe.min.js")
}

func loadAxeFrom(path string) (string, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w (%s is missing)", ErrAxeMissing, path)
	}
	if err != nil {
		return "", fmt.Errorf("browsertest: read axe-core: %w", err)
	}
	return string(src), nil
}

// CheckA11y injects axe-core into the page of ctx (once per document) and
// returns the violations of the rules tagged AxeTags. label names the page
// and state in errors.
func CheckA11y(ctx context.Context, label string) ([]Violation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, err
	}
	loaded, err := Eval[bool](ctx, `typeof window.axe === "object" && typeof window.axe.run === "function"`)
	if err != nil {
		return nil, fmt.Errorf("browsertest: a11y %s: probe axe: %w", label, err)
	}
	if !loaded {
		if _, err := Eval[chromedp.Void](ctx, src+"\n;void 0"); err != nil {
			return nil, fmt.Errorf("browsertest: a11y %s: inject axe-core: %w", label, err)
		}
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	vs, err := Eval[[]Violation](ctx, fmt.Sprintf(axeRunJS, tags))
	if err != nil {
		return nil, fmt.Errorf("browsertest: a11y %s: axe.run: %w", label, err)
	}
	return vs, nil
}

// RequireNoSeriousA11y runs CheckA11y and fails the test (Errorf: the test
// goes on to its other pages) on every serious or critical violation,
// listing them; milder ones go to the test log. It returns all violations.
func RequireNoSeriousA11y(t testing.TB, ctx context.Context, label string) []Violation {
	t.Helper()
	vs, err := CheckA11y(ctx, label)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var serious, mild []string
	for _, v := range vs {
		if v.Serious() {
			serious = append(serious, v.String())
		} else {
			mild = append(mild, v.String())
		}
	}
	if len(mild) > 0 {
		t.Logf("a11y %s: %d minor or moderate violations:\n  %s", label, len(mild), strings.Join(mild, "\n  "))
	}
	if len(serious) > 0 {
		t.Errorf("a11y %s: %d serious or critical violations:\n  %s", label, len(serious), strings.Join(serious, "\n  "))
	}
	return vs
}
