import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Queue<T> {
  readonly length: number;
  push(x: T): T;
  shift(): T | undefined;
  remove(x: T): T | null;
}
// postgres.js's connection queues (open, busy, full), as patched (patches/postgres+3.4.9.patch): not exported by the package.
const require = createRequire(import.meta.url);
const Queue = require(join(dirname(require.resolve('postgres')), 'queue.js')) as <T>(initial?: T[]) => Queue<T>;

describe("postgres.js's connection queue (patched to compact)", () => {
  it('keeps order and finds what it holds after many rotations, as a busy pool rotates its connections', () => {
    const q = Queue<string>();
    for (const c of ['a', 'b', 'c', 'd']) q.push(c);
    for (let i = 0; i < 1000; i++) q.push(q.shift()!);
    expect(q.length).toBe(4);
    expect(q.remove('c')).toBe('c');
    expect(q.remove('c')).toBeNull();
    expect(q.remove('zzz')).toBeNull();
    expect(q.length).toBe(3);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(['a', 'b', 'd', undefined]);
    expect(q.length).toBe(0);
  });

  it('never hands out an entry removed while holes from earlier shifts were still in front of it', () => {
    const q = Queue<number>();
    for (let i = 0; i < 200; i++) q.push(i);
    for (let i = 0; i < 100; i++) expect(q.shift()).toBe(i);
    expect(q.remove(150)).toBe(150);
    const rest: number[] = [];
    while (q.length) rest.push(q.shift()!);
    expect(rest).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i).filter((n) => n !== 150));
  });
});
