import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

/**
 * The one reader of process.env. Every variable of CONTRACT.md ("Running it")
 * is declared here with its default and description; docs/environment.md is
 * generated from this schema (`npm run docs:env`), so the two cannot drift.
 */
const int = (description: string, dflt: number, min = 0, max = 2_147_483_647) =>
  Type.Integer({ description, default: dflt, minimum: min, maximum: max });

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    description: 'Runtime mode: development, test or production.',
    default: 'development',
  }),
  PORT: int('TCP port to listen on.', 3000, 0, 65_535),
  HOST: Type.String({ description: 'Address to listen on.', default: '127.0.0.1', minLength: 1 }),
  DATABASE_URL: Type.String({
    description: 'postgres://… for PostgreSQL, pglite://DIR for embedded PostgreSQL in DIR, pglite://memory for a throwaway one.',
    default: 'pglite://./data/db',
    pattern: '^(postgres(ql)?://.+|pglite://.+)$',
  }),
  DATABASE_POOL_MAX: int('Largest number of PostgreSQL connections per process, in all: DATABASE_PIPELINE_CONNECTIONS of them for queries outside transactions, the rest for transactions.', 10, 1, 500),
  DATABASE_PIPELINE_CONNECTIONS: int('PostgreSQL connections that queries outside a transaction share, pipelined (part of DATABASE_POOL_MAX; at most DATABASE_POOL_MAX - 1). Few do best: more spread the same queries over more sockets; more keep a slow statement from delaying every read behind it.', 1, 1, 100),
  DATABASE_PREPARED_STATEMENTS: Type.Boolean({ description: 'Run queries as named prepared statements (parsed once per connection). Turn off behind a transaction-mode pooler such as PgBouncer before 1.21.', default: true }),
  REDIS_URL: Type.Optional(Type.String({ description: 'redis://… ; unset: in-process stores (one instance only).', pattern: '^rediss?://.+' })),
  DATA_DIR: Type.String({ description: 'Directory for development keys, uploaded documents and the SMS outbox.', default: './data' }),
  JWT_PRIVATE_KEYS: Type.Optional(
    Type.String({ description: 'Signing keys as a JWK set ({"keys":[…]}, Ed25519 OKP, each with kid), newest first. Required in production.' }),
  ),
  JWT_ISSUER: Type.String({ description: 'The iss claim of access tokens.', default: 'bima-api' }),
  JWT_AUDIENCE: Type.String({ description: 'The aud claim of access tokens.', default: 'bima-clients' }),
  ACCESS_TOKEN_TTL_S: int('Access token lifetime in seconds.', 900, 60, 3600),
  PRODUCT_CACHE_TTL_S: int('Seconds a product (with its provider\'s code and status) stays cached per instance for quotes; changes drop it at once on every instance (0: no cache).', 60, 0, 3600),
  CALLER_CACHE_TTL_S: int('Seconds a caller\'s user row, agent record and team stay cached per instance; changes drop them at once on every instance (0: no cache).', 10, 0, 300),
  POLICY_LIST_CACHE_MB: int('Megabytes of rendered policy-list pages kept per instance; one is served only while PostgreSQL shows that nothing it was built from has changed (0: no cache).', 16, 0, 4096),
  POLICY_DETAIL_CACHE_MB: int('Megabytes of rendered single-policy answers (GET /policies/{id}) kept per instance, served on the same terms as the list\'s pages (0: no cache).', 16, 0, 4096),
  REFRESH_TOKEN_TTL_S: int('Refresh token (session) lifetime in seconds.', 2_592_000, 3600, 31_536_000),
  CORS_ORIGINS: Type.String({ description: 'Comma-separated allowed origins (none in production unless set).', default: '' }),
  RATE_LIMIT_MAX: int('General requests per client per window.', 300, 1),
  RATE_LIMIT_WINDOW_S: int('Rate-limit window in seconds.', 60, 1),
  AUTH_RATE_LIMIT_MAX: int('Requests per client per window on login, register, OTP, verify and refresh.', 20, 1),
  LOGIN_MAX_FAILURES: int('Consecutive failed sign-ins per identifier before a lock.', 5, 1, 100),
  LOGIN_LOCK_S: int('How long a locked identifier stays locked, in seconds.', 900, 1),
  OTP_TTL_S: int('One-time code lifetime in seconds.', 300, 30, 3600),
  OTP_MAX_ATTEMPTS: int('Wrong tries per one-time code.', 5, 1, 20),
  OTP_RESEND_S: int('Cooldown between two codes to the same phone, in seconds.', 30, 0, 3600),
  OTP_MAX_FAILURES_PER_HOUR: int('Wrong codes per phone per hour, across codes.', 15, 1, 1000),
  OTP_SENDS_PER_PHONE_HOUR: int('Code requests per phone per hour (sent or not).', 5, 1, 1000),
  OTP_SENDS_PER_PHONE_DAY: int('Code requests per phone per day.', 10, 1, 10_000),
  OTP_SENDS_PER_IP_HOUR: int('Code requests per client address per hour.', 30, 1, 100_000),
  SMS_BUDGET_PER_HOUR: int('One-time-code SMS the whole service may send per hour (SMS pumping guard).', 5000, 1, 10_000_000),
  OTP_SECRET: Type.Optional(Type.String({ description: 'HMAC key for one-time codes at rest (32+ chars). Required in production; generated in development.', minLength: 32 })),
  SMS_PROVIDER: Type.Union([Type.Literal('log'), Type.Literal('outbox'), Type.Literal('http')], {
    description: 'log (development), outbox (JSON lines appended to SMS_OUTBOX_FILE) or http (a real gateway).',
    default: 'log',
  }),
  SMS_OUTBOX_FILE: Type.String({ description: 'Where the outbox provider appends messages.', default: './data/sms-outbox.jsonl' }),
  SMS_HTTP_URL: Type.Optional(Type.String({ description: 'Gateway URL for SMS_PROVIDER=http; receives {to, purpose, text} as JSON.', pattern: '^https?://.+' })),
  SMS_HTTP_TOKEN: Type.Optional(Type.String({ description: 'Bearer token sent to the SMS gateway.' })),
  SMS_HTTP_TIMEOUT_MS: int('Timeout of one SMS gateway call.', 5000, 100, 60_000),
  BOOTSTRAP_ADMIN_PHONE: Type.Optional(Type.String({ description: 'Creates the first super_admin on start if none exists (with BOOTSTRAP_ADMIN_PASSWORD).' })),
  BOOTSTRAP_ADMIN_PASSWORD: Type.Optional(Type.String({ description: 'Password of the bootstrap super_admin.', minLength: 8, maxLength: 128 })),
  SEED_DEMO_DATA: Type.Boolean({ description: 'Seed demo users and data on an empty database (default on in development only).', default: false }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    description: 'pino log level.',
    default: 'info',
  }),
  TRUSTED_PROXIES: Type.String({ description: 'Comma-separated addresses or CIDRs whose X-Forwarded-* headers are believed.', default: '' }),
  DOCS_ENABLED: Type.Boolean({ description: 'Serve /docs and /openapi.json.', default: true }),
  METRICS_TOKEN: Type.Optional(Type.String({
    description: 'When set, /metrics answers only Authorization: Bearer <this token> (401 otherwise); unset, it answers anyone who reaches it, so keep it off the internet (deploy/Caddyfile blocks it).',
    minLength: 32,
  })),
  ALERT_WEBHOOK_URL: Type.Optional(Type.String({ description: 'Where security alerts are posted (HMAC-signed); unset: alerts go to the log.', pattern: '^https?://.+' })),
  ALERT_WEBHOOK_SECRET: Type.Optional(Type.String({ description: 'HMAC-SHA256 key for alert webhook signatures.', minLength: 16 })),
  WEB_CONCURRENCY: int('Worker processes (Node cluster).', 1, 1, 64),
  SLOW_QUERY_MS: int('Queries slower than this are logged (parameters redacted).', 200, 1),
  SHUTDOWN_TIMEOUT_MS: int('How long in-flight requests may take to finish on SIGTERM.', 10_000, 100, 120_000),
  ADMISSION_PER_TURN: int('Requests started per turn of the event loop; the rest wait, in order, for the next turns, so that turns stay short and new connections are accepted under saturation (libuv accepts one per turn). 0: no limit.', 8, 0, 10_000),
  HASH_CONCURRENCY: int('Password hashes computed at once; more wait in a queue.', 2, 1, 64),
  HASH_QUEUE_MAX: int('Sign-ins (and other password hashes) admitted to wait for a hasher; past that they get 503.', 128, 0, 100_000),
  HASH_SHED_DELAY_MS: int('How long a sign-in refused for want of hashing capacity waits before its 503, so clients that retry at once cannot spin.', 1000, 0, 10_000),
});

export type Env = Static<typeof EnvSchema>;
export type Config = Readonly<Env & { corsOrigins: readonly string[]; trustedProxies: readonly string[]; isProduction: boolean }>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, '1': true, yes: true, false: false, '0': false, no: false };

/** Reads and validates the environment once; throws ConfigError naming the first bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    const value = source[key];
    if (value === undefined || value === '') continue;
    raw[key] = coerce(key, value, schema as { type?: string });
  }
  const env = Value.Default(EnvSchema, raw) as Record<string, unknown>;
  if (source.NODE_ENV !== 'production' && source.SEED_DEMO_DATA === undefined) {
    env.SEED_DEMO_DATA = (env.NODE_ENV ?? 'development') === 'development';
  }
  const firstError = [...Value.Errors(EnvSchema, env)][0];
  if (firstError) {
    const name = firstError.instancePath.replace(/^\//, '') || missingName(firstError);
    throw new ConfigError(`Invalid environment variable ${name}: ${firstError.message}`);
  }
  const valid = env as Env;
  checkCrossField(valid);
  return Object.freeze({
    ...valid,
    corsOrigins: splitList(valid.CORS_ORIGINS),
    trustedProxies: splitList(valid.TRUSTED_PROXIES),
    isProduction: valid.NODE_ENV === 'production',
  });
}

function coerce(key: string, value: string, schema: { type?: string }): unknown {
  if (schema.type === 'integer') {
    if (!/^-?\d+$/.test(value.trim())) throw new ConfigError(`Invalid environment variable ${key}: expected a whole number, got "${value}"`);
    return Number(value);
  }
  if (schema.type === 'boolean') {
    const word = BOOLEAN_WORDS[value.trim().toLowerCase()];
    if (word === undefined) throw new ConfigError(`Invalid environment variable ${key}: expected true or false, got "${value}"`);
    return word;
  }
  return value;
}

function missingName(error: { params?: unknown }): string {
  const params = error.params as { requiredProperties?: string[] } | undefined;
  return params?.requiredProperties?.[0] ?? 'environment';
}

function checkCrossField(env: Env): void {
  if (env.NODE_ENV === 'production') {
    if (!env.JWT_PRIVATE_KEYS) throw new ConfigError('Invalid environment variable JWT_PRIVATE_KEYS: required in production');
    if (!env.OTP_SECRET) throw new ConfigError('Invalid environment variable OTP_SECRET: required in production');
    if (!env.TRUSTED_PROXIES.trim()) {
      throw new ConfigError('Invalid environment variable TRUSTED_PROXIES: required in production (the TLS-terminating proxy); plain HTTP is refused');
    }
    if (env.SMS_PROVIDER === 'log') {
      throw new ConfigError('Invalid environment variable SMS_PROVIDER: "log" writes one-time codes to the log; use http (or outbox) in production');
    }
    if (env.DATABASE_URL.startsWith('pglite://memory')) {
      throw new ConfigError('Invalid environment variable DATABASE_URL: an in-memory database loses every record on restart; not allowed in production');
    }
  }
  if (env.WEB_CONCURRENCY > 1 && !env.REDIS_URL) {
    throw new ConfigError('Invalid environment variable REDIS_URL: required with WEB_CONCURRENCY > 1, or logouts and limits would not be shared between workers');
  }
  if (env.SMS_PROVIDER === 'http' && !env.SMS_HTTP_URL) {
    throw new ConfigError('Invalid environment variable SMS_HTTP_URL: required when SMS_PROVIDER=http');
  }
  if (Boolean(env.BOOTSTRAP_ADMIN_PHONE) !== Boolean(env.BOOTSTRAP_ADMIN_PASSWORD)) {
    throw new ConfigError('Invalid environment variable BOOTSTRAP_ADMIN_PASSWORD: BOOTSTRAP_ADMIN_PHONE and BOOTSTRAP_ADMIN_PASSWORD go together');
  }
  if (env.ALERT_WEBHOOK_URL && !env.ALERT_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid environment variable ALERT_WEBHOOK_SECRET: required with ALERT_WEBHOOK_URL');
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
