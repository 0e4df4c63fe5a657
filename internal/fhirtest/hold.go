package fhirtest

import (
	"context"
	"net/http"
	"strings"
	"sync"
)

// heldWrite is a write whose answer the proxy holds back after the server
// applied it, until the test releases it or the client goes away.
type heldWrite struct {
	typ      string        // the resource type the write targets; "" for any
	held     chan struct{} // closed once the server answered and the answer is held
	released chan struct{}
	once     sync.Once
}

func (h *heldWrite) release() { h.once.Do(func() { close(h.released) }) }

// wait holds the answer until release; false when the client went away
// first (its connection closed), so there is no one to answer.
func (h *heldWrite) wait(ctx context.Context) bool {
	close(h.held)
	select {
	case <-h.released:
		return true
	case <-ctx.Done():
		return false
	}
}

// holdNextWrite arms the hold of the next FHIR write to a resource of type
// typ ("" for any); it replaces a hold armed before and not yet taken.
func (p *proxy) holdNextWrite(typ string) *heldWrite {
	h := &heldWrite{typ: typ, held: make(chan struct{}), released: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = h
	return h
}

// takeHold returns the armed hold when r is the write it waits for.
func (p *proxy) takeHold(r *http.Request) *heldWrite {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold == nil || !isFHIRWrite(r, p.hold.typ) {
		return nil
	}
	h := p.hold
	p.hold = nil
	return h
}

// isFHIRWrite reports whether r is a POST or PUT under the FHIR base (token
// requests are not FHIR writes), to a resource of type typ unless typ is "".
func isFHIRWrite(r *http.Request, typ string) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, FHIRPath+"/")
	if !ok || (r.Method != http.MethodPost && r.Method != http.MethodPut) {
		return false
	}
	first, _, _ := strings.Cut(rest, "/")
	return typ == "" || first == typ
}
