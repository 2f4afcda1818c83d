import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Admission } from './admission.js';

describe('Admission', () => {
  it('lets a request in at once while the turn has room and nobody waits', () => {
    const gate = new Admission(2);
    const started: number[] = [];
    gate.enter(() => started.push(1));
    gate.enter(() => started.push(2));
    expect(started).toEqual([1, 2]);
    gate.enter(() => started.push(3));
    expect(started).toEqual([1, 2]);
    expect(gate.queued).toBe(1);
  });

  it('starts at most perTurn requests per turn, in arrival order, and new arrivals queue behind the waiting', async () => {
    const gate = new Admission(3);
    const started: string[] = [];
    for (let i = 0; i < 8; i++) gate.enter(() => started.push(`a${i}`));
    expect(started).toEqual(['a0', 'a1', 'a2']);
    await nextTurn();
    expect(started).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    // One arriving now, while two still wait, goes after them.
    gate.enter(() => started.push('b0'));
    expect(started).toHaveLength(6);
    await nextTurn();
    expect(started).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'b0']);
    expect(gate.queued).toBe(0);
  });

  it('goes back to letting requests in at once when the load has passed', async () => {
    const gate = new Admission(1);
    const started: number[] = [];
    gate.enter(() => started.push(1));
    gate.enter(() => started.push(2));
    await nextTurn();
    await nextTurn();
    await nextTurn();
    gate.enter(() => started.push(3));
    expect(started).toEqual([1, 2, 3]);
  });
});
