package browsertest

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"
)

const pollInterval = 250 * time.Millisecond

// Navigate loads url in the tab of ctx and waits for its load event.
func Navigate(ctx context.Context, url string) error {
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("browsertest: navigate: %w", err)
	}
	return nil
}

// Eval evaluates the JavaScript expression js in the tab of ctx, awaits it
// when it is a promise, and decodes the result into T (see
// chromedp.Evaluate; use chromedp.Void to ignore it).
func Eval[T any](ctx context.Context, js string) (T, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// WaitFor evaluates the JavaScript predicate js (a boolean, or a promise of
// one) every 250 ms until it is true, ctx ends or timeout passes. Errors
// thrown by the predicate count as false, so it may refer to things the page
// has not created yet; the last one is in the timeout error.
func WaitFor(ctx context.Context, js string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := Eval[bool](ctx, js)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("browsertest: %s not true within %s (last error: %v)", js, timeout, lastErr)
			}
			return fmt.Errorf("browsertest: %s not true within %s", js, timeout)
		case <-time.After(pollInterval):
		}
	}
}

// Screenshot writes a PNG of the tab's viewport to path.
func Screenshot(ctx context.Context, path string) error {
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("browsertest: screenshot: %w", err)
	}
	return os.WriteFile(path, png, 0o644)
}
