import type { Redis } from 'ioredis';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Adds n to a window's counter, starting the window's expiry on first use; returns the count and the window's ms left. */
const ADD = `
local current = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {current, ttl}`;

interface Window {
  /** The count Redis last reported (all instances). */
  base: number;
  /** Counted here since, not yet sent. */
  pending: number;
  resetAt: number;
}

export interface BatchedStoreOptions {
  redis: Redis;
  /** Keys counted exactly, one round trip each (the strict auth limit). */
  exact: (key: string) => boolean;
  flushMs?: number;
  /** Windows tracked at once; the oldest go first past it. */
  maxKeys?: number;
  /** Prepended to every Redis key. */
  prefix?: string;
}

/**
 * A store for @fastify/rate-limit that keeps the general limit shared across
 * instances without a Redis round trip per request: a client's first request
 * to an instance in a window asks Redis for the cluster-wide count; after
 * that the instance counts locally and adds its counts to Redis in one
 * pipelined batch every `flushMs`, reading back the total. A client can
 * overshoot the limit by what the other instances counted in one interval
 * (100 ms), which a general per-minute limit can afford; keys for which
 * `exact` says so (the strict sign-in limit) go to Redis on every request.
 */
export function batchedRedisStore(options: BatchedStoreOptions) {
  const { redis, exact, flushMs = 100, maxKeys = 100_000, prefix = 'rl:' } = options;
  const windows = new Map<string, Window>();
  /** Windows with counts not yet sent: a flush touches these, not every client seen. */
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let sweptAt = 0;

  const add = (key: string, n: number, windowMs: number): Promise<[number, number]> =>
    redis.eval(ADD, 1, prefix + key, n, windowMs) as Promise<[number, number]>;

  const flush = async (windowMs: number) => {
    const batch = [...dirty].flatMap((key) => {
      const w = windows.get(key);
      return w && w.pending > 0 ? [{ key, w, n: w.pending }] : [];
    });
    dirty.clear();
    for (const { w, n } of batch) {
      w.base += n;
      w.pending = 0;
    }
    const pipeline = redis.pipeline();
    for (const { key, n } of batch) pipeline.eval(ADD, 1, prefix + key, n, windowMs);
    try {
      const results = batch.length ? await pipeline.exec() : [];
      const now = Date.now();
      batch.forEach(({ w }, i) => {
        const [error, value] = results?.[i] ?? [new Error('no reply')];
        if (error || !Array.isArray(value)) return; // Redis away: the local count stands
        w.base = Number(value[0]);
        w.resetAt = now + Number(value[1]);
      });
    } catch {
      // Redis away: keep counting locally until it is back.
    }
    // Expired windows go once a second, not on every flush.
    const now = Date.now();
    if (now - sweptAt >= 1000) {
      sweptAt = now;
      for (const [key, w] of windows) if (w.resetAt <= now && w.pending === 0) windows.delete(key);
    }
  };

  const schedule = (windowMs: number) => {
    timer ??= setTimeout(() => {
      void flush(windowMs).finally(() => {
        timer = null;
        if (dirty.size > 0) schedule(windowMs);
      });
    }, flushMs);
    timer.unref();
  };

  return class BatchedRedisStore {
    incr(key: string, callback: Callback, windowMs: number): void {
      if (exact(key)) {
        add(key, 1, windowMs).then(([current, ttl]) => callback(null, { current: Number(current), ttl: Number(ttl) }), (error: Error) => callback(error));
        return;
      }
      const now = Date.now();
      const w = windows.get(key);
      if (w && w.resetAt > now) {
        w.pending++;
        dirty.add(key);
        schedule(windowMs);
        callback(null, { current: w.base + w.pending, ttl: w.resetAt - now });
        return;
      }
      // A client new to this instance: its first request asks Redis, so what the other instances counted applies at once.
      if (w) windows.delete(key);
      if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
      const fresh: Window = { base: 0, pending: 0, resetAt: now + windowMs };
      windows.set(key, fresh);
      add(key, 1, windowMs).then(([current, ttl]) => {
        fresh.base = Number(current);
        fresh.resetAt = Date.now() + Number(ttl);
        callback(null, { current: fresh.base + fresh.pending, ttl: Number(ttl) });
      }, (error: Error) => {
        fresh.base += 1;
        callback(error);
      });
    }

    child(): BatchedRedisStore {
      return this;
    }
  };
}
