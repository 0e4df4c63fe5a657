package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/televisit/televisit/internal/config"
	"github.com/televisit/televisit/visits"
	"github.com/televisit/televisit/visits/ehr"
)

// ehrSetup is the EHR writeback of a process: a FHIR client per configured
// endpoint and the JWKS of each endpoint that uses SMART Backend Services.
type ehrSetup struct {
	clients map[string]*ehr.Client
	jwks    map[string]http.Handler // by endpoint name
}

// newEHRSetup builds the clients of c.Endpoints; keys and tokens come from
// the configuration (files), never from the repository.
func newEHRSetup(c config.EHR, log *slog.Logger) (*ehrSetup, error) {
	s := &ehrSetup{clients: map[string]*ehr.Client{}, jwks: map[string]http.Handler{}}
	for _, ep := range c.Endpoints {
		auth, err := s.authorizer(ep, log)
		if err != nil {
			return nil, fmt.Errorf("ehr.endpoints %s: %w", ep.Name, err)
		}
		cl, err := ehr.NewClient(ehr.Config{BaseURL: ep.BaseURL, Timeout: ep.Timeout}, auth, nil, log.With("endpoint", ep.Name))
		if err != nil {
			return nil, fmt.Errorf("ehr.endpoints %s: %w", ep.Name, err)
		}
		s.clients[ep.Name] = cl
	}
	return s, nil
}

func (s *ehrSetup) authorizer(ep config.EHREndpoint, log *slog.Logger) (ehr.Authorizer, error) {
	switch ep.Auth {
	case "smart":
		b, err := ehr.NewSMARTBackend(ehr.SMARTConfig{ClientID: ep.ClientID, TokenURL: ep.TokenURL, KeyFile: ep.KeyFile,
			KeyID: ep.KeyID, Scope: ep.Scope, Timeout: ep.Timeout}, nil, log.With("endpoint", ep.Name))
		if err != nil {
			return nil, err
		}
		s.jwks[ep.Name] = b.JWKSHandler()
		return b, nil
	case "bearer":
		return ehr.NewBearerToken(ehr.BearerConfig{Token: ep.Token.Value()})
	}
	return nil, nil // none: loopback only, checked by the configuration
}

// names lists the configured endpoints.
func (s *ehrSetup) names() []string {
	out := make([]string, 0, len(s.clients))
	for n := range s.clients {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// mount serves every SMART endpoint's public key at
// /.well-known/jwks/<name>.json, and the only one's also at path.
func (s *ehrSetup) mount(mux *http.ServeMux, path string) {
	if path == "" {
		path = "/.well-known/jwks.json"
	}
	for name, h := range s.jwks {
		mux.Handle("GET /.well-known/jwks/"+name+".json", h)
		if len(s.jwks) == 1 {
			mux.Handle("GET "+path, h)
		}
	}
}

// worker is the EHR delivery worker, or nil when no endpoint is
// configured (queued jobs then wait for a process that has one).
func (s *ehrSetup) worker(c config.EHR, svc *visits.Service, log *slog.Logger) (*visits.EHRWorker, error) {
	if len(s.clients) == 0 {
		return nil, nil
	}
	return visits.NewEHRWorker(visits.EHRWorkerConfig{Endpoints: s.clients, Lease: c.Lease, Poll: c.PollInterval,
		RetryBase: c.RetryBase, RetryMax: c.RetryMax}, svc, log)
}

// loadEHRSection reads the ehr section of a configuration file, for
// `televisit dev --ehr-config`; none when file is "".
func loadEHRSection(file string) (config.EHR, error) {
	if file == "" {
		return config.EHR{}, nil
	}
	c, err := config.Load(config.Source{File: file})
	if err != nil {
		return config.EHR{}, err
	}
	return c.EHR, nil
}

// buildEHR wires the EHR writeback into svc and mux and returns its worker.
func buildEHR(c config.EHR, svc *visits.Service, mux *http.ServeMux, log *slog.Logger) (*visits.EHRWorker, error) {
	s, err := newEHRSetup(c, log)
	if err != nil {
		return nil, err
	}
	svc.SetEHREndpoints(s.names()...)
	s.mount(mux, c.JWKSPath)
	return s.worker(c, svc, log)
}
