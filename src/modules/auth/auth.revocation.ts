import type { KeyValueStore } from '../../shared/kv-store.js';

/**
 * Ended sessions, checked on every authenticated request so an access token
 * stops working the moment its session ends, not at its expiry. An entry only
 * needs to outlive the longest access token, so it expires with it.
 */
export class RevocationStore {
  constructor(private readonly kv: KeyValueStore, private readonly ttlS: number) {}

  async revoke(sessionIds: readonly string[]): Promise<void> {
    await Promise.all(sessionIds.map((id) => this.kv.set(`revoked:${id}`, '1', this.ttlS + 60)));
  }

  isRevoked(sessionId: string): Promise<boolean> {
    return this.kv.exists(`revoked:${sessionId}`);
  }
}
