package staffauth

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/televisit/televisit/visits"
)

const (
	cacheTTL     = 5 * time.Minute // clinic renames and row changes show up within this
	cacheMaxSize = 4096
)

// staffCache remembers the staff row behind bearer identities, so a busy
// API client costs no write per request, and the expiry of the latest token
// seen per staff row, for SessionExpiry.
type staffCache struct {
	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	expiry  map[uuid.UUID]time.Time
}

type cacheKey struct {
	kind            visits.ActorKind
	issuer, subject string
}

type cacheEntry struct {
	staffID   uuid.UUID
	clinicIDs []uuid.UUID
	sig       string // roles and clinics claims the row was written for
	stored    time.Time
}

func newStaffCache() *staffCache {
	return &staffCache{entries: map[cacheKey]cacheEntry{}, expiry: map[uuid.UUID]time.Time{}}
}

// claimSignature identifies the claims that shape the staff row.
func claimSignature(id *identity) string {
	clinics := slices.Clone(id.clinics)
	slices.Sort(clinics)
	present := "0"
	if id.clinicsPresent {
		present = "1"
	}
	return strings.Join(roleStrings(id.roles), ",") + "|" + present + "|" + strings.Join(clinics, ",")
}

func (c *staffCache) get(k cacheKey, sig string, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || e.sig != sig || now.Sub(e.stored) > cacheTTL || now.Before(e.stored) {
		return cacheEntry{}, false
	}
	e.clinicIDs = slices.Clone(e.clinicIDs)
	return e, true
}

func (c *staffCache) put(k cacheKey, e cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= cacheMaxSize {
		clear(c.entries)
	}
	e.stored, e.clinicIDs = now, slices.Clone(e.clinicIDs)
	c.entries[k] = e
}

// sawToken notes that a token for staffID is valid until exp.
func (c *staffCache) sawToken(staffID uuid.UUID, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.expiry) >= cacheMaxSize {
		clear(c.expiry)
	}
	if exp.After(c.expiry[staffID]) {
		c.expiry[staffID] = exp
	}
}

func (c *staffCache) tokenExpiry(staffID uuid.UUID) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.expiry[staffID]
	return exp, ok
}
