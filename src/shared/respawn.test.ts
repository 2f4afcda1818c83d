import { describe, expect, it } from 'vitest';
import { RespawnBackoff } from './respawn.js';

describe('RespawnBackoff', () => {
  it('replaces a worker that had been serving at once', () => {
    const backoff = new RespawnBackoff();
    expect(backoff.next(60_000)).toBe(0);
    expect(backoff.next(10_000)).toBe(0);
  });

  it('waits longer after each young death in a row, up to the ceiling', () => {
    const backoff = new RespawnBackoff();
    expect([1, 2, 3, 4, 5, 6, 7].map(() => backoff.next(500))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('starts over once a replacement has lived past the young limit', () => {
    const backoff = new RespawnBackoff({ youngMs: 5_000, firstMs: 100, maxMs: 1_000 });
    expect([backoff.next(10), backoff.next(10), backoff.next(10)]).toEqual([100, 200, 400]);
    expect(backoff.next(5_000)).toBe(0);
    expect(backoff.next(4_999)).toBe(100);
  });
});
