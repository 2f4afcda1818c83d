import { describe, expect, it } from 'vitest';
import type { Broadcast } from './broadcast.js';
import { SharedCache } from './shared-cache.js';

/** A broadcast that is live and whose sends can be made to fail (Redis gone after the commit). */
function fakeBroadcast(failing: boolean) {
  const sent: unknown[] = [];
  const broadcast = {
    live: true,
    listen: () => undefined,
    publish: async (_channel: string, payload: unknown) => {
      sent.push(payload);
      if (failing) throw new Error('Connection is closed.');
    },
  };
  return { broadcast: broadcast as unknown as Broadcast, sent };
}

describe('SharedCache', () => {
  it('drops its own entry and tells the others even when the send fails: the change has committed', async () => {
    const { broadcast, sent } = fakeBroadcast(true);
    let version = 1;
    const cache = new SharedCache<{ version: number }>({ channel: 'things', broadcast, ttlMs: 60_000, load: async () => ({ version }) });
    expect((await cache.get('a'))?.version).toBe(1);
    version = 2;
    await expect(cache.changed(['a'])).resolves.toBeUndefined();
    expect(sent).toEqual([['a']]);
    expect((await cache.get('a'))?.version).toBe(2);
  });

  it('sends drops even when it caches nothing itself (TTL 0): other instances may', async () => {
    const { broadcast, sent } = fakeBroadcast(false);
    const cache = new SharedCache<{ id: string }>({ channel: 'things', broadcast, ttlMs: 0, load: async (id) => ({ id }) });
    await cache.changed(['a']);
    await cache.changedAll();
    expect(sent).toEqual([['a'], '*']);
  });
});
