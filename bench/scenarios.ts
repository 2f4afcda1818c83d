import type { RequestSpec } from 'autocannon';
import { consuming, rotating } from './load.js';
import { BENCH_PASSWORD } from './fixtures.js';
import { phoneOf } from './seed.js';

/** Everything the scenarios send, prepared before any measurement. */
export interface Fixtures {
  /** Access tokens of agents and policyholders. */
  userTokens: string[];
  /** Access tokens of active agents (junior and senior). */
  agentTokens: string[];
  /** An agent's token with one of its own policies. */
  policyReads: Array<{ token: string; policyId: string }>;
  quoteBodies: string[];
  /** Indices of active policyholders whose phone and password sign in. */
  loginUsers: number[];
  /** Unspent refresh tokens, one pool per connection level. */
  refreshTokens: Map<number, string[]>;
}

export interface Scenario {
  key: string;
  title: string;
  /** 'reference' runs against the reference server; 'api-uncached' against a second API with its page caches off (POLICY_*_CACHE_MB=0). */
  server: 'api' | 'api-uncached' | 'reference';
  /** What the issue names as the request. */
  request: string;
  build(fixtures: Fixtures, connections: number, notes: string[]): RequestSpec[];
}

const json = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const REFERENCE: Scenario = {
  key: 'reference',
  title: 'Reference server',
  server: 'reference',
  request: 'GET /ref (jose Ed25519 verify + Redis EXISTS + pg read by primary key)',
  build: (f) => rotating(f.userTokens, (token) => ({ method: 'GET', path: '/ref', headers: bearer(token) })),
};

export const ME: Scenario = {
  key: 'me',
  title: 'Profile read',
  server: 'api',
  request: 'GET /api/v1/auth/me',
  build: (f) => rotating(f.userTokens, (token) => ({ method: 'GET', path: '/api/v1/auth/me', headers: bearer(token) })),
};

export const SCENARIOS: Scenario[] = [
  ME,
  {
    key: 'policy-list',
    title: 'Scoped policy list',
    server: 'api',
    request: 'GET /api/v1/policies?limit=20 (as an agent; the first page of each, asked again and again: from the page cache)',
    build: (f) => rotating(f.agentTokens, (token) => ({ method: 'GET', path: '/api/v1/policies?limit=20', headers: bearer(token) })),
  },
  {
    // The list's pages are cached until a row under them changes (src/shared/page-cache.ts), and nothing changes during the
    // run: the scenario above measures pages served from the cache. Here no page is asked for twice, so each is rendered.
    key: 'policy-list-rendered',
    title: 'Scoped policy list, every page rendered',
    server: 'api',
    request: 'GET /api/v1/policies?limit=20&created_to={a different far-future instant each time} (as an agent: no page asked for twice, so none from the cache)',
    build: (f) => {
      let n = 0;
      const farFuture = Date.UTC(2100, 0, 1);
      return rotating(f.agentTokens, (token) => ({
        method: 'GET', path: `/api/v1/policies?limit=20&created_to=${new Date(farFuture + n++).toISOString()}`, headers: bearer(token),
      }));
    },
  },
  {
    key: 'policy-read',
    title: 'Policy read',
    server: 'api',
    request: 'GET /api/v1/policies/{id} (the agent\'s own policy, read again and again: from the read cache)',
    build: (f) => rotating(f.policyReads, ({ token, policyId }) => ({ method: 'GET', path: `/api/v1/policies/${policyId}`, headers: bearer(token) })),
  },
  {
    // The reads above are cached as the list's pages are, and nothing changes during the run: they come from the cache.
    // The same reads here go to a second API with its caches off, so each is read and rendered.
    key: 'policy-read-rendered',
    title: 'Policy read, every one rendered',
    server: 'api-uncached',
    request: 'GET /api/v1/policies/{id} (the agent\'s own policy; a second API with POLICY_DETAIL_CACHE_MB=0, so none from a cache)',
    build: (f) => rotating(f.policyReads, ({ token, policyId }) => ({ method: 'GET', path: `/api/v1/policies/${policyId}`, headers: bearer(token) })),
  },
  {
    key: 'quote',
    title: 'Quote',
    server: 'api',
    request: 'POST /api/v1/policies/quote (as an agent)',
    build: (f) => {
      const pairs = f.agentTokens.flatMap((token, i) => f.quoteBodies.map((_, j) => ({ token, body: f.quoteBodies[(i + j) % f.quoteBodies.length]! })));
      return rotating(pairs, ({ token, body }) => ({ method: 'POST', path: '/api/v1/policies/quote', headers: { ...json, ...bearer(token) }, body }));
    },
  },
  {
    key: 'login',
    title: 'Login (password)',
    server: 'api',
    request: 'POST /api/v1/auth/login {method: password}',
    build: (f) => rotating(f.loginUsers, (userIndex) => ({
      method: 'POST', path: '/api/v1/auth/login', headers: json,
      body: JSON.stringify({ method: 'password', phone_number: phoneOf(userIndex), password: BENCH_PASSWORD }),
    })),
  },
  {
    key: 'refresh',
    title: 'Refresh',
    server: 'api',
    request: 'POST /api/v1/auth/refresh (a fresh refresh token per request)',
    build: (f, connections, notes) => consuming(
      f.refreshTokens.get(connections) ?? [],
      (token) => ({ method: 'POST', path: '/api/v1/auth/refresh', headers: json, body: JSON.stringify({ refresh_token: token }) }),
      () => ({ method: 'POST', path: '/api/v1/auth/refresh', headers: json, body: JSON.stringify({ refresh_token: 'exhausted' }) }),
      notes,
    ),
  },
];
