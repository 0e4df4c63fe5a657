// Package browsertest runs real headless Chromium processes for end-to-end
// tests and drives them with chromedp: fake camera and microphone, its own
// temporary profile per process, console messages and page exceptions copied
// into the test log, and the whole process tree killed when the test ends.
//
// A test starts one browser per participant, loads a page and asserts on the
// page's WebRTC statistics:
//
//	b := browsertest.Start(t)
//	tab := b.Context()
//	if err := browsertest.Navigate(tab, url); err != nil { ... }
//	st, err := browsertest.WaitFramesDecoded(tab, "window.call.pc", 30, 40*time.Second)
//
// Chromium is a system package: `make deps` (.ci/install-deps) installs it,
// and a missing binary fails the test; it never skips.
//
// The console goes to the test log, which CI keeps: pages under test must
// only ever hold synthetic test data, never PHI.
package browsertest
