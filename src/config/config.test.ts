import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('configuration', () => {
  it('fills the contract defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', NODE_ENV: 'development', DATABASE_URL: 'pglite://./data/db', RATE_LIMIT_MAX: 300, RATE_LIMIT_WINDOW_S: 60,
      AUTH_RATE_LIMIT_MAX: 20, LOGIN_MAX_FAILURES: 5, LOGIN_LOCK_S: 900, OTP_TTL_S: 300, OTP_MAX_ATTEMPTS: 5, OTP_RESEND_S: 30, OTP_MAX_FAILURES_PER_HOUR: 15,
      SMS_PROVIDER: 'log', LOG_LEVEL: 'info', DOCS_ENABLED: true, WEB_CONCURRENCY: 1, SEED_DEMO_DATA: true });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('stops with one message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ SMS_PROVIDER: 'pigeon' })).toThrow(/SMS_PROVIDER/);
    expect(() => loadConfig({ DOCS_ENABLED: 'maybe' })).toThrow(/DOCS_ENABLED/);
    expect(() => loadConfig({ SMS_PROVIDER: 'http' })).toThrow(/SMS_HTTP_URL/);
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_PHONE: '+919800000001' })).toThrow(/BOOTSTRAP_ADMIN_PASSWORD/);
    expect(() => loadConfig({ PORT: 'x' })).toThrow(ConfigError);
  });

  it('in production, missing signing keys or OTP secret stop the start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/bima' })).toThrow(/JWT_PRIVATE_KEYS/);
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/bima', JWT_PRIVATE_KEYS: '{"keys":[]}' })).toThrow(/OTP_SECRET/);
    const base = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/bima', JWT_PRIVATE_KEYS: '{"keys":[]}', OTP_SECRET: 'x'.repeat(32) };
    expect(() => loadConfig(base)).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8' })).toThrow(/SMS_PROVIDER/);
    const production = loadConfig({ ...base, TRUSTED_PROXIES: '10.0.0.0/8', SMS_PROVIDER: 'outbox' });
    expect(production.SEED_DEMO_DATA).toBe(false);
    expect(production.corsOrigins).toEqual([]);
  });

  it('several workers need Redis to share logouts and limits', () => {
    expect(() => loadConfig({ WEB_CONCURRENCY: '4', DATABASE_URL: 'postgres://db/bima' })).toThrow(/REDIS_URL/);
    expect(loadConfig({ WEB_CONCURRENCY: '4', DATABASE_URL: 'postgres://db/bima', REDIS_URL: 'redis://r:6379' }).WEB_CONCURRENCY).toBe(4);
  });

  it('parses lists and booleans', () => {
    const config = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', TRUSTED_PROXIES: '10.0.0.0/8', DOCS_ENABLED: 'false' });
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8']);
    expect(config.DOCS_ENABLED).toBe(false);
  });
});
