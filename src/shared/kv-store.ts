import { Redis } from 'ioredis';

/**
 * The small key-value surface the service needs from Redis (revocations,
 * counters, locks). With no REDIS_URL an in-process map stands in: correct for
 * one instance only, which the config documents.
 */
export interface KeyValueStore {
  readonly kind: 'redis' | 'memory';
  /** Prepended to every key (Redis); channels and SCAN patterns must add it themselves. */
  readonly prefix: string;
  set(key: string, value: string, ttlS: number): Promise<void>;
  get(key: string): Promise<string | null>;
  exists(key: string): Promise<boolean>;
  del(key: string): Promise<void>;
  /** Increments a counter, starting its TTL on first use; returns the new value. */
  incr(key: string, ttlS: number): Promise<number>;
  /** Resolves once the store can serve; startup waits for it so readiness is never announced early. */
  connect(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The Redis client, for libraries that take one (rate limiting); null in memory. */
  readonly redis: Redis | null;
  /** Set by the metrics plugin: sees each Redis round trip. */
  observer?: (operation: string, seconds: number, ok: boolean) => void;
}

export function createRedisStore(url: string, prefix = 'bima:'): KeyValueStore {
  const redis = new Redis(url, {
    keyPrefix: prefix,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: 1000,
    lazyConnect: true,
    // Commands issued in the same tick go out as one write: under load, far fewer syscalls per request.
    enableAutoPipelining: true,
  });
  // Connection errors surface on each command (and on /health/ready); ioredis reconnects by itself.
  redis.on('error', () => undefined);
  const timed = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    let ok = false;
    try {
      const result = await run();
      ok = true;
      return result;
    } finally {
      store.observer?.(operation, (performance.now() - started) / 1000, ok);
    }
  };
  const store: KeyValueStore = {
    kind: 'redis',
    prefix,
    redis,
    async set(key, value, ttlS) {
      await timed('set', () => redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttlS))));
    },
    get: (key) => timed('get', () => redis.get(key)),
    exists: async (key) => (await timed('exists', () => redis.exists(key))) === 1,
    async del(key) {
      await timed('del', () => redis.del(key));
    },
    async incr(key, ttlS) {
      const [[, count]] = (await timed('incr', () => redis.multi().incr(key).expire(key, Math.ceil(ttlS), 'NX').exec())) as [[unknown, number]];
      return count;
    },
    async connect() {
      if (redis.status === 'wait') await redis.connect();
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      redis.disconnect();
    },
  };
  return store;
}

export function createMemoryStore(now: () => number = Date.now): KeyValueStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
  }, 60_000);
  sweep.unref();
  return {
    kind: 'memory',
    prefix: '',
    redis: null,
    async set(key, value, ttlS) {
      entries.set(key, { value, expiresAt: now() + ttlS * 1000 });
    },
    get: async (key) => live(key)?.value ?? null,
    exists: async (key) => live(key) !== undefined,
    async del(key) {
      entries.delete(key);
    },
    async incr(key, ttlS) {
      const entry = live(key);
      const count = Number(entry?.value ?? 0) + 1;
      entries.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? now() + ttlS * 1000 });
      return count;
    },
    async connect() {},
    async ping() {},
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}
