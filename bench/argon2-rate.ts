import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../src/modules/auth/auth.passwords.js';

export interface VerifyRate {
  concurrency: number;
  verifies: number;
  seconds: number;
  perSecond: number;
  meanMs: number;
  /** CPU time per verify (user + system, all threads of this process): what one verify costs the machine. */
  cpuMsPerVerify: number;
}

/** The hash every seeded user shares; same parameters as the service (OWASP: m=19456 KiB, t=2, p=1). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

/**
 * Raw argon2id verifications per second with `concurrency` in flight (they
 * run on libuv's thread pool, 4 threads unless UV_THREADPOOL_SIZE says
 * otherwise): the ceiling a password login can reach on this machine.
 */
export async function measureVerifyRate(storedHash: string, password: string, concurrency: number, seconds: number): Promise<VerifyRate> {
  await verify(storedHash, password); // warm the thread pool
  let verifies = 0;
  let busyMs = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      if (!(await verify(storedHash, password))) throw new Error('argon2 verify failed on the bench hash');
      busyMs += performance.now() - t;
      verifies += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMsPerVerify = (cpu.user + cpu.system) / 1000 / Math.max(1, verifies);
  return { concurrency, verifies, seconds: elapsed, perSecond: verifies / elapsed, meanMs: busyMs / Math.max(1, verifies), cpuMsPerVerify };
}

export const threadPoolSize = () => Number(process.env.UV_THREADPOOL_SIZE ?? 4);
export const cores = () => availableParallelism();
