import type { Broadcast } from '../../shared/broadcast.js';
import type { KeyValueStore } from '../../shared/kv-store.js';

const CHANNEL = 'revocations';

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

  constructor(private readonly kv: KeyValueStore, private readonly broadcast: Broadcast, private readonly ttlS: number) {
    broadcast.listen(CHANNEL, (ids) => this.accept(ids), () => this.resync());
  }

  async revoke(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await Promise.all(sessionIds.map((id) => this.kv.set(`revoked:${id}`, '1', this.ttlS + 60)));
    this.accept(sessionIds);
    if (this.kv.redis) await this.broadcast.publish(CHANNEL, sessionIds, true);
  }

  isRevoked(sessionId: string): Promise<boolean> | boolean {
    if (!this.kv.redis || !this.broadcast.live) return this.askStore(sessionId);
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

  private accept(ids: unknown): void {
    if (!Array.isArray(ids)) return;
    const until = Date.now() + (this.ttlS + 60) * 1000;
    for (const id of ids) if (typeof id === 'string') this.mirror.set(id, until);
  }

  /** Rebuilds the mirror from Redis after each (re)subscribe. */
  private async resync(): Promise<void> {
    const redis = this.kv.redis;
    if (!redis) return;
    const pattern = `${this.kv.prefix}revoked:*`;
    const scanner = redis.duplicate({ keyPrefix: undefined, lazyConnect: true });
    try {
      await scanner.connect();
      let cursor = '0';
      do {
        const [next, keys] = await scanner.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        this.accept(keys.map((key) => key.slice(this.kv.prefix.length + 'revoked:'.length)));
      } while (cursor !== '0');
    } finally {
      scanner.disconnect();
    }
  }
}
