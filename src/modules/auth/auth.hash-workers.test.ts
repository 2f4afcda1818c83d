import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HashWorkers } from './auth.hash-workers.js';
import { ARGON2_PARAMS } from './auth.passwords.js';

const workers = new HashWorkers(2);
afterAll(() => workers.close());

/** Nice values of this process's threads, from /proc (Linux keeps one per thread). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised command name; nice is field 19 overall, the 17th after it.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('argon2 on low-priority worker threads', () => {
  it('hashes with the service parameters and verifies, right and wrong', async () => {
    const hash = await workers.hash('a long enough password', ARGON2_PARAMS);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await workers.verify(hash, 'a long enough password')).toBe(true);
    expect(await workers.verify(hash, 'another password')).toBe(false);
  });

  it('runs jobs side by side, as many as there are workers, and queues the rest', async () => {
    const hash = await workers.hash('parallel password', ARGON2_PARAMS);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => workers.verify(hash, i % 2 ? 'parallel password' : 'wrong')));
    expect(results).toEqual([false, true, false, true, false]);
  });

  it('the hashing threads run at nice 19 while the event loop keeps its priority', async () => {
    await workers.hash('any password at all', ARGON2_PARAMS);
    const nice = threadNiceValues();
    expect(nice.filter((n) => n === 19).length).toBeGreaterThanOrEqual(1);
    const main = readFileSync('/proc/self/stat', 'utf8');
    expect(Number(main.slice(main.lastIndexOf(')') + 2).split(' ')[16])).toBe(0);
  });

  it('a malformed stored hash is an error for the caller, and the worker carries on', async () => {
    await expect(workers.verify('not-a-hash', 'whatever')).rejects.toThrow();
    const hash = await workers.hash('still working', ARGON2_PARAMS);
    expect(await workers.verify(hash, 'still working')).toBe(true);
  });
});
