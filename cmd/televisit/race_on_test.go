//go:build race

package main

// raceEnabled: the test binary runs with the race detector, so the
// end-to-end test builds the server with it too.
const raceEnabled = true
