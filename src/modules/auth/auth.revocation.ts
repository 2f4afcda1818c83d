import type { Redis } from 'ioredis';
import type { KeyValueStore } from '../../shared/kv-store.js';

/**
 * Ended sessions, checked on every authenticated request so an access token
 * stops working the moment its session ends, not at its expiry. An entry only
 * needs to outlive the longest access token, so it expires with it.
 *
 * With Redis, each instance keeps an in-memory mirror of the revoked session
 * ids, filled from a SCAN at start and kept fresh by pub/sub, so the check
 * costs no round trip. While the subscription is down (start, reconnect) the
 * check falls back to asking Redis, and the mirror is rebuilt on reconnect.
 * A revoke resolves only after this instance's own subscriber has seen the
 * message, by when Redis has handed it to every other subscriber too.
 */
export class RevocationStore {
  private readonly mirror = new Map<string, number>();
  private readonly channel: string;
  private subscriber: Redis | null = null;
  private live = false;
  private readonly echoes = new Map<string, () => void>();

  constructor(private readonly kv: KeyValueStore, private readonly ttlS: number, private readonly prefix = 'bima:') {
    this.channel = `${prefix}revocations`;
  }

  /** Starts the mirror (Redis only); safe to skip, the store then asks Redis each time. */
  async start(): Promise<void> {
    if (!this.kv.redis || this.subscriber) return;
    const subscriber = this.kv.redis.duplicate({ keyPrefix: undefined, lazyConnect: true, enableOfflineQueue: true });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('close', () => (this.live = false));
    subscriber.on('message', (_channel, message) => this.accept(message));
    subscriber.on('ready', () => void this.resync());
    await subscriber.connect();
    await this.resync();
  }

  async stop(): Promise<void> {
    this.live = false;
    this.subscriber?.disconnect();
    this.subscriber = null;
  }

  async revoke(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await Promise.all(sessionIds.map((id) => this.kv.set(`revoked:${id}`, '1', this.ttlS + 60)));
    const until = Date.now() + (this.ttlS + 60) * 1000;
    for (const id of sessionIds) this.mirror.set(id, until);
    if (this.kv.redis && this.live) await this.publishAndAwaitEcho(sessionIds);
  }

  isRevoked(sessionId: string): Promise<boolean> | boolean {
    if (!this.live) return this.askStore(sessionId);
    return this.inMirror(sessionId);
  }

  /**
   * Redis unreachable: reads keep working on the last revocations this
   * instance knew of (issue 6: sign-in fails closed, reads stay up); whatever
   * is revoked meanwhile reaches the mirror once the subscription is back.
   */
  private async askStore(sessionId: string): Promise<boolean> {
    try {
      return await this.kv.exists(`revoked:${sessionId}`);
    } catch {
      return this.inMirror(sessionId);
    }
  }

  private inMirror(sessionId: string): boolean {
    const until = this.mirror.get(sessionId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.mirror.delete(sessionId);
    return false;
  }

  private async publishAndAwaitEcho(sessionIds: readonly string[]): Promise<void> {
    const nonce = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    const echoed = new Promise<void>((resolve) => {
      this.echoes.set(nonce, resolve);
      setTimeout(resolve, 250).unref();
    });
    await this.kv.redis!.publish(this.channel, JSON.stringify({ nonce, ids: sessionIds }));
    await echoed;
    this.echoes.delete(nonce);
  }

  private accept(message: string): void {
    try {
      const { nonce, ids } = JSON.parse(message) as { nonce: string; ids: string[] };
      const until = Date.now() + (this.ttlS + 60) * 1000;
      for (const id of ids) this.mirror.set(id, until);
      this.echoes.get(nonce)?.();
    } catch {
      // A malformed message cannot name a session; ignore it.
    }
  }

  /** Rebuilds the mirror from Redis: subscribe first, then scan, so nothing revoked in between is missed. */
  private async resync(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber || subscriber.status !== 'ready') return;
    await subscriber.subscribe(this.channel);
    const redis = this.kv.redis!;
    const pattern = `${this.prefix}revoked:*`;
    const scanner = redis.duplicate({ keyPrefix: undefined, lazyConnect: true });
    try {
      await scanner.connect();
      let cursor = '0';
      do {
        const [next, keys] = await scanner.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        const until = Date.now() + (this.ttlS + 60) * 1000;
        for (const key of keys) this.mirror.set(key.slice(this.prefix.length + 'revoked:'.length), until);
      } while (cursor !== '0');
      this.live = true;
    } finally {
      scanner.disconnect();
    }
  }
}
