import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { isActiveAgent, isActivePolicyholder, layout, phoneOf, type SeedSizes } from './seed.js';

/** The one password every seeded user has (its argon2id hash is shared by all rows). */
export const BENCH_PASSWORD = 'monsoon chai on the western ghats';

export interface SignedIn {
  userIndex: number;
  userId: string;
  role: string;
  accessToken: string;
}

/** `count` indices spread evenly over [first, last] that pass `keep`. */
export function spread(first: number, last: number, count: number, keep: (i: number) => boolean): number[] {
  const picked: number[] = [];
  const step = Math.max(1, Math.floor((last - first + 1) / Math.max(1, count)));
  for (let i = first; i <= last && picked.length < count; i += step) if (keep(i)) picked.push(i);
  return picked;
}

/** Who signs in before the measurements: agents (half senior, half junior) and policyholders. */
export function chooseUsers(sizes: SeedSizes, agentCount: number, holderCount: number) {
  const { seniors, firstPolicyholder } = layout(sizes);
  const agents = [
    ...spread(1, seniors, Math.ceil(agentCount / 2), isActiveAgent),
    ...spread(seniors + 1, sizes.agents, Math.floor(agentCount / 2), isActiveAgent),
  ];
  const holders = spread(firstPolicyholder, sizes.users, holderCount, isActivePolicyholder);
  return { agents, holders };
}

/** Password sign-ins through the API, `concurrency` at a time; a 503 (hash queue full) is retried, boundedly. */
export async function signInAll(apiUrl: string, userIndices: number[], concurrency = 4): Promise<SignedIn[]> {
  const signedIn: SignedIn[] = [];
  let next = 0;
  const worker = async () => {
    while (next < userIndices.length) {
      const userIndex = userIndices[next++]!;
      signedIn.push(await signIn(apiUrl, userIndex));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return signedIn;
}

async function signIn(apiUrl: string, userIndex: number): Promise<SignedIn> {
  for (let attempt = 1; attempt <= 10; attempt++) {
    const response = await fetch(`${apiUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'bima-bench' },
      body: JSON.stringify({ method: 'password', phone_number: phoneOf(userIndex), password: BENCH_PASSWORD }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { access_token?: string; user?: { id: string; role: string } };
    if (response.status === 200 && body.access_token && body.user) {
      return { userIndex, userId: body.user.id, role: body.user.role, accessToken: body.access_token };
    }
    if (response.status !== 503 && response.status !== 429) throw new Error(`sign-in of user ${userIndex} answered ${response.status}: ${JSON.stringify(body)}`);
    await sleep(200 * attempt);
  }
  throw new Error(`sign-in of user ${userIndex} kept answering 503`);
}

/** Up to `perAgent` policies of each signed-in agent (its own, so in scope), newest first. */
export async function policiesOf(dbUrl: string, agents: SignedIn[], perAgent: number): Promise<Array<{ token: string; policyId: string }>> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ user_id: string; id: string }>(
      `SELECT a.user_id, p.id FROM agents a CROSS JOIN LATERAL (
         SELECT id FROM policies WHERE agent_id = a.id ORDER BY created_at DESC LIMIT $2) p
       WHERE a.user_id = ANY($1::uuid[])`, [agents.map((a) => a.userId), perAgent]);
    const tokenOf = new Map(agents.map((a) => [a.userId, a.accessToken]));
    return rows.map((r) => ({ token: tokenOf.get(r.user_id)!, policyId: r.id }));
  } finally {
    await client.end();
  }
}

/** Quote requests every seeded product accepts (ages 26..47, terms and sums inside each product's limits). */
export async function quoteBodies(dbUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; kind: string }>(`SELECT id, kind FROM products WHERE status = 'active' ORDER BY code`);
    const terms: Record<string, { sum_assured_paise: number; term_years: number; premium_mode: string }> = {
      term: { sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'monthly' },
      endowment: { sum_assured_paise: 20_000_000, term_years: 15, premium_mode: 'annual' },
      health: { sum_assured_paise: 50_000_000, term_years: 1, premium_mode: 'annual' },
    };
    const births = ['1985-03-10', '1992-07-21', '1978-11-02', '1999-01-15'];
    return rows.flatMap((product) => births.map((date_of_birth) => JSON.stringify({ product_id: product.id, date_of_birth, ...terms[product.kind]! })));
  } finally {
    await client.end();
  }
}

/**
 * Sessions with one unspent refresh token each, inserted directly (the
 * service stores sha256 hex of the token, auth.service.ts): sign-ins would
 * cost an argon2 verify apiece. Spread over the active policyholders.
 */
export async function createRefreshTokens(dbUrl: string, count: number): Promise<string[]> {
  const salt = `rt${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off; SET jit = off');
    await client.query(`
      WITH holders AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM users WHERE role = 'policyholder' AND status = 'active'),
        total AS (SELECT count(*) AS n FROM holders)
      INSERT INTO user_sessions (id, user_id, created_at, last_used_at, expires_at, ip_address, user_agent)
      SELECT md5($1 || ':' || g)::uuid, h.id, now(), now(), now() + interval '30 days', '127.0.0.1', 'bima-bench'
      FROM generate_series(1, $2::int) g CROSS JOIN total JOIN holders h ON h.rn = 1 + (g - 1) % total.n`, [salt, count]);
    await client.query(`
      INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
      SELECT encode(sha256(convert_to($1 || '-' || g, 'UTF8')), 'hex'), md5($1 || ':' || g)::uuid, now(), now() + interval '30 days'
      FROM generate_series(1, $2::int) g`, [salt, count]);
    // What autovacuum would do within a minute or so: without it the planner
    // sees these tables as they were before the rows arrived (the seed's
    // ANALYZE ran on them nearly empty), in the scenarios that run first.
    await client.query('ANALYZE user_sessions, refresh_tokens');
  } finally {
    await client.end();
  }
  return Array.from({ length: count }, (_, i) => `${salt}-${i + 1}`);
}
