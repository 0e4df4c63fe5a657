// Package metrics exposes televisit's Prometheus metrics on a registry of
// its own (never the global default). Components keep plain counters and
// Stats() methods; collectors here read them at scrape time, so the media
// path does no Prometheus work per packet. No label carries PHI or an
// identifier: labels are low-cardinality (role, kind, state, type, result).
package metrics
