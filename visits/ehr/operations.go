package ehr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Create posts r. With ifNoneExist (a search query such as the one
// IdentifierQuery returns) the server creates r only when nothing matches;
// created is false when it answered with an existing resource.
func (c *Client) Create(ctx context.Context, r Resource, ifNoneExist string) (id, version string, created bool, err error) {
	op := "create " + r.FHIRType()
	body, err := encode(op, r)
	if err != nil {
		return "", "", false, err
	}
	header := http.Header{}
	if ifNoneExist != "" {
		header.Set("If-None-Exist", ifNoneExist)
	}
	a, err := c.do(ctx, op, http.MethodPost, "/"+r.FHIRType(), body, header)
	if err != nil {
		return "", "", false, err
	}
	h, err := parseResource(op, a.status, a.body)
	if err != nil {
		return "", "", false, err
	}
	return h.ID, h.Meta.VersionID, a.status == http.StatusCreated, nil
}

// Update puts r as the new version of resource id and returns the version.
func (c *Client) Update(ctx context.Context, id string, r Resource) (version string, err error) {
	op := "update " + r.FHIRType()
	body, err := encodeWithID(op, r, id)
	if err != nil {
		return "", err
	}
	a, err := c.do(ctx, op, http.MethodPut, "/"+r.FHIRType()+"/"+escapePath(id), body, nil)
	if err != nil {
		return "", err
	}
	h, err := parseResource(op, a.status, a.body)
	if err != nil {
		return "", err
	}
	return h.Meta.VersionID, nil
}

// Read fetches resource typ/id into out (a pointer to a resource struct) and
// returns its version.
func (c *Client) Read(ctx context.Context, typ, id string, out any) (version string, err error) {
	op := "read " + typ
	a, err := c.do(ctx, op, http.MethodGet, "/"+escapePath(typ)+"/"+escapePath(id), nil, nil)
	if err != nil {
		return "", err
	}
	h, err := parseResource(op, a.status, a.body)
	if err != nil {
		return "", err
	}
	if h.ResourceType != typ {
		return "", &ProtocolError{Op: op, Status: a.status, Reason: "answer is another resource type"}
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return "", &ProtocolError{Op: op, Status: a.status, Reason: "resource does not decode"}
	}
	return h.Meta.VersionID, nil
}

// SearchByIdentifier returns the ids of the resources of type typ that carry
// the identifier system|value.
func (c *Client) SearchByIdentifier(ctx context.Context, typ, system, value string) ([]string, error) {
	op := "search " + typ
	a, err := c.do(ctx, op, http.MethodGet, "/"+escapePath(typ)+"?"+IdentifierQuery(system, value), nil, nil)
	if err != nil {
		return nil, err
	}
	return parseSearchIDs(op, a.status, typ, a.body)
}

// Search returns the ids of the resources of type typ that match query (an
// encoded search query such as the one ProvenanceQuery returns).
func (c *Client) Search(ctx context.Context, typ, query string) ([]string, error) {
	op := "search " + typ
	a, err := c.do(ctx, op, http.MethodGet, "/"+escapePath(typ)+"?"+query, nil, nil)
	if err != nil {
		return nil, err
	}
	return parseSearchIDs(op, a.status, typ, a.body)
}

// IdentifierQuery is the search query for the identifier system|value, for
// SearchByIdentifier and as If-None-Exist of Create.
func IdentifierQuery(system, value string) string {
	return url.Values{"identifier": {system + "|" + value}}.Encode()
}

// encodeWithID encodes r with its id element set to id, as update requires.
func encodeWithID(op string, r Resource, id string) ([]byte, error) {
	data, err := encode(op, r)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("ehr: %s: encode: %w", op, err)
	}
	idJSON, _ := json.Marshal(id)
	m["id"] = idJSON
	delete(m, "meta")
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("ehr: %s: encode: %w", op, err)
	}
	return out, nil
}
