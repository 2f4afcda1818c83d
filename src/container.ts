import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { type SigningKeys } from './modules/auth/auth.keys.js';
import { OtpService } from './modules/auth/auth.otp.js';
import { PasswordHasher } from './modules/auth/auth.passwords.js';
import { RevocationStore } from './modules/auth/auth.revocation.js';
import { AuthService } from './modules/auth/auth.service.js';
import { FeatureFlagsService } from './modules/feature-flags/feature-flags.service.js';
import { UsersService } from './modules/users/users.service.js';
import type { Clock } from './shared/clock.js';
import type { KeyValueStore } from './shared/kv-store.js';
import type { SmsSender } from './shared/sms.js';

/** What the outside world hands the app: built by server.ts, or by tests with fakes for SMS and the clock. */
export interface Infrastructure {
  database: Database;
  kv: KeyValueStore;
  sms: SmsSender;
  clock: Clock;
  keys: SigningKeys;
  log: FastifyBaseLogger;
}

export interface Services {
  auth: AuthService;
  users: UsersService;
  featureFlags: FeatureFlagsService;
  hasher: PasswordHasher;
  revocations: RevocationStore;
  otp: OtpService;
}

export type AuthEventHook = (event: string, method: string, outcome: string) => void;

/** Wires the services once per app; modules get what they need from here, never from globals. */
export function buildServices(config: Config, infra: Infrastructure, onAuthEvent?: AuthEventHook): Services {
  const { database, kv, sms, clock, keys } = infra;
  const db = database.db;
  const hasher = new PasswordHasher(config.HASH_CONCURRENCY, config.HASH_QUEUE_MAX);
  const revocations = new RevocationStore(kv, config.ACCESS_TOKEN_TTL_S);
  const otp = new OtpService(db, kv, sms, clock, config, resolveOtpSecret(config));
  const auth = new AuthService({ db, clock, config, hasher, keys, otp, revocations, onAuthEvent });
  return { auth, users: new UsersService(db), featureFlags: new FeatureFlagsService(db, clock), hasher, revocations, otp };
}

/** Production sets OTP_SECRET; development keeps a generated one beside its keys; tests get a random one. */
function resolveOtpSecret(config: Config): string {
  if (config.OTP_SECRET) return config.OTP_SECRET;
  if (config.NODE_ENV === 'test' || config.DATABASE_URL === 'pglite://memory') return randomBytes(32).toString('hex');
  const file = join(config.DATA_DIR, 'otp-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
