import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../../config/config.js';
import { newId } from '../../shared/ids.js';

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export interface SigningKeys {
  /** The newest key: it signs. */
  signing: { kid: string; key: SigningKey };
  /** Every key's public half: all of them verify, so rotation never signs anyone out. */
  verifier: JWTVerifyGetKey;
  jwks: { keys: JWK[] };
}

export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: newId(), alg: 'EdDSA', use: 'sig' };
}

export async function loadSigningKeys(privateJwks: JWK[]): Promise<SigningKeys> {
  if (privateJwks.length === 0) throw new ConfigError('Invalid environment variable JWT_PRIVATE_KEYS: no keys');
  const publicJwks: JWK[] = [];
  let signing: SigningKeys['signing'] | undefined;
  for (const [i, jwk] of privateJwks.entries()) {
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.kid) {
      throw new ConfigError(`Invalid environment variable JWT_PRIVATE_KEYS: key ${i} must be an Ed25519 private JWK with a kid`);
    }
    const { d: _private, ...publicPart } = jwk;
    publicJwks.push({ ...publicPart, alg: 'EdDSA', use: 'sig' });
    if (i === 0) signing = { kid: jwk.kid, key: await importJWK({ ...jwk, alg: 'EdDSA' }, 'EdDSA') };
  }
  const jwks = { keys: publicJwks };
  return { signing: signing!, verifier: createLocalJWKSet(jwks), jwks };
}

export function parseKeySet(text: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError('Invalid environment variable JWT_PRIVATE_KEYS: not JSON');
  }
  const keys = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new ConfigError('Invalid environment variable JWT_PRIVATE_KEYS: expected {"keys":[…]}');
  return keys as JWK[];
}

/**
 * Production reads JWT_PRIVATE_KEYS. Development generates one key on first
 * start and keeps it (0600) in the data directory, so restarts keep sessions.
 */
export async function resolveSigningKeys(options: { configured?: string; keyFile?: string }): Promise<SigningKeys> {
  if (options.configured) return loadSigningKeys(parseKeySet(options.configured));
  if (options.keyFile && existsSync(options.keyFile)) return loadSigningKeys(parseKeySet(readFileSync(options.keyFile, 'utf8')));
  const jwk = await generateSigningJwk();
  if (options.keyFile) {
    mkdirSync(dirname(options.keyFile), { recursive: true });
    writeFileSync(options.keyFile, JSON.stringify({ keys: [jwk] }), { mode: 0o600 });
    chmodSync(options.keyFile, 0o600);
  }
  return loadSigningKeys([jwk]);
}
