/**
 * The yardstick: the least an authenticated read can do on this machine.
 * A plain Fastify server that verifies the API's own Ed25519 access token
 * with jose (same checks: algorithm, issuer, audience, typ), asks Redis
 * whether the session is revoked (EXISTS, as the API's RevocationStore does)
 * and reads the caller's users row by primary key with pg. No schemas, no
 * plugins, no logging. Every API figure in the report is a ratio to this.
 *
 * Run by bench/run.ts as its own process. Environment: PORT, DATABASE_URL,
 * REDIS_URL, JWKS_FILE (the API's development key file), DATABASE_POOL_MAX.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import pg from 'pg';

function env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`reference server: ${name} is required`);
  return value;
}

const privateKeys = (JSON.parse(readFileSync(env('JWKS_FILE'), 'utf8')) as { keys: JWK[] }).keys;
const verifier = createLocalJWKSet({ keys: privateKeys.map(({ d: _private, ...publicPart }) => ({ ...publicPart, alg: 'EdDSA' })) });
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: Number(env('DATABASE_POOL_MAX', '10')), application_name: 'bima-bench-reference' });
pool.on('error', () => undefined);
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
redis.on('error', () => undefined);
const issuer = env('JWT_ISSUER', 'bima-api');
const audience = env('JWT_AUDIENCE', 'bima-clients');

const app = Fastify({ logger: false });

app.get('/health', async () => ({ status: 'ok' }));

app.get('/ref', async (request, reply) => {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  if (!match) return reply.code(401).send({ error: 'unauthenticated' });
  let sub: string;
  let sid: string;
  try {
    const { payload } = await jwtVerify(match[1]!, verifier, { algorithms: ['EdDSA'], issuer, audience, typ: 'at+jwt', requiredClaims: ['exp', 'sub'] });
    sub = String(payload.sub);
    sid = String(payload.sid);
  } catch {
    return reply.code(401).send({ error: 'invalid token' });
  }
  if ((await redis.exists(`bima:revoked:${sid}`)) === 1) return reply.code(401).send({ error: 'revoked' });
  // The whole row, as the API's /auth/me reads it; only a few fields go out.
  const { rows } = await pool.query<{ id: string; full_name: string; role: string; status: string }>('SELECT * FROM users WHERE id = $1', [sub]);
  const user = rows[0];
  if (!user) return reply.code(404).send({ error: 'not found' });
  return { id: user.id, full_name: user.full_name, role: user.role, status: user.status };
});

async function main(): Promise<void> {
  await redis.connect();
  await app.listen({ port: Number(env('PORT')), host: '127.0.0.1' });
  const stop = async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  console.error('reference server failed:', error);
  process.exit(1);
});
