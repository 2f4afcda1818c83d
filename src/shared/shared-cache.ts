import { LRUCache } from 'lru-cache';
import type { Broadcast } from './broadcast.js';

export interface SharedCacheOptions<V extends object> {
  /** The broadcast channel that carries drops between instances; one per cache. */
  channel: string;
  broadcast: Broadcast;
  /** 0 turns caching off: every get() loads. */
  ttlMs: number;
  max?: number;
  /** Reads the value from the database; undefined when there is none (not cached). */
  load: (key: string) => Promise<V | undefined>;
}

interface Entry<V> {
  /** When (Date.now()) it is read again in the background: between half and three quarters of its life, spread so entries loaded together do not all reload together. */
  refreshAt: number;
  value: V;
}

/**
 * Rows read on every request and changed rarely, cached per instance for at
 * most `ttlMs` and dropped on every instance as soon as a change to them
 * commits (`changed`, `changedAll`, carried by the broadcast). A load that
 * raced a drop of its key is used once but not kept, and while the broadcast
 * is not live (Redis reconnecting) nothing is cached at all, so a missed
 * message can never leave a stale row behind. Misses are not cached.
 */
export class SharedCache<V extends object> {
  private readonly cache: LRUCache<string, Entry<V>> | null;
  private readonly loading = new Map<string, Promise<V | undefined>>();
  private readonly channel: string;
  private readonly broadcast: Broadcast;
  private readonly ttlMs: number;
  private readonly loadValue: (key: string) => Promise<V | undefined>;

  constructor(options: SharedCacheOptions<V>) {
    this.channel = options.channel;
    this.broadcast = options.broadcast;
    this.ttlMs = options.ttlMs;
    this.loadValue = options.load;
    this.cache = options.ttlMs > 0 ? new LRUCache<string, Entry<V>>({ max: options.max ?? 50_000, ttl: options.ttlMs }) : null;
    this.broadcast.listen(this.channel, (keys) => this.drop(keys), async () => this.drop('*'));
  }

  async get(key: string): Promise<V | undefined> {
    const cache = this.broadcast.live ? this.cache : null;
    if (!cache) return this.loadValue(key);
    const hit = cache.get(key);
    if (hit) {
      // Read again ahead of expiry, off the request's path: a key in steady
      // use never waits for the database (under a login storm that wait was
      // the reads' tail). Changes do not wait for this: they drop the entry.
      if (Date.now() > hit.refreshAt) this.reload(key, cache).catch(() => undefined);
      return hit.value;
    }
    return this.reload(key, cache);
  }

  /** After a change to these keys' rows has committed; `wait`: until every instance has dropped them. */
  changed(keys: readonly string[], opts: { wait: boolean } = { wait: true }): Promise<void> {
    return this.publish([...keys], opts.wait);
  }

  /** After a change that may touch any entry has committed. */
  changedAll(): Promise<void> {
    return this.publish('*', true);
  }

  private async publish(keys: string[] | '*', wait: boolean): Promise<void> {
    if (keys.length === 0) return;
    this.drop(keys);
    // Sent even when this instance caches nothing (TTL 0): others may. The
    // change has committed, so a failed send is not the request's failure: an
    // instance whose subscription is down caches nothing, and one that missed
    // the message while live keeps the row at most ttlMs.
    await this.broadcast.publish(this.channel, keys, wait).catch(() => undefined);
  }

  private drop(keys: unknown): void {
    if (!this.cache) return;
    // Loads already running may have read the old rows: later readers must not
    // join them, and they are not kept (see reload: only the registered load is).
    if (keys === '*') {
      this.cache.clear();
      this.loading.clear();
    } else if (Array.isArray(keys)) {
      for (const key of keys) {
        if (typeof key !== 'string') continue;
        this.cache.delete(key);
        this.loading.delete(key);
      }
    }
  }

  /** One load per key at a time: readers that find an entry gone (or stale) share one query. */
  private reload(key: string, cache: LRUCache<string, Entry<V>>): Promise<V | undefined> {
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.loadValue(key).then((value) => {
        // Dropped meanwhile (a change to this key, or to all): used once, not kept.
        // Per key, so one key's drop leaves other keys' loads alone.
        if (this.loading.get(key) === loading && this.broadcast.live) {
          if (value) cache.set(key, { value, refreshAt: Date.now() + this.ttlMs * (0.5 + Math.random() / 4) });
          else cache.delete(key);
        }
        return value;
      }).finally(() => {
        if (this.loading.get(key) === loading) this.loading.delete(key);
      });
      this.loading.set(key, loading);
    }
    return loading;
  }
}
