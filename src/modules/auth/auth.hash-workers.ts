import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Options } from '@node-rs/argon2';

type Job = { op: 'hash'; password: string; options: Options } | { op: 'verify'; hash: string; password: string };
type Reply = { id: number; ok: true; value: string | boolean } | { id: number; ok: false; error: string };

/**
 * The worker's whole program. It lowers its own thread's priority first
 * (nice 19; on Linux the nice value is per thread, so this touches no other
 * thread), then hashes synchronously, one job at a time.
 */
const source = (argon2Path: string) => `
const { parentPort } = require('node:worker_threads');
const { setPriority } = require('node:os');
const argon2 = require(${JSON.stringify(argon2Path)});
try { setPriority(19); } catch {}
parentPort.on('message', ({ id, job }) => {
  try {
    const value = job.op === 'verify' ? argon2.verifySync(job.hash, job.password) : argon2.hashSync(job.password, job.options);
    parentPort.postMessage({ id, ok: true, value });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: String(error && error.message || error) });
  }
});`;

/**
 * Argon2 on dedicated worker threads at the lowest CPU priority. Hashing is
 * the one CPU-heavy thing the service does; on libuv's pool it ran at the
 * event loop's priority, so a login storm took CPU from every other request.
 * At nice 19 the event loop and the database win every contest for a core,
 * and hashing still gets all the CPU nobody else wants. One job per worker
 * at a time; PasswordHasher bounds how many wait.
 */
export class HashWorkers {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (value: string | boolean) => void; reject: (error: Error) => void; worker: Worker }>();
  private readonly queue: Array<() => void> = [];
  private serial = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  hash(password: string, options: Options): Promise<string> {
    return this.run({ op: 'hash', password, options }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.run({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all.map((worker) => worker.terminate()));
  }

  private async run(job: Job): Promise<string | boolean> {
    if (this.closed) throw new Error('hash workers are closed');
    const worker = await this.take();
    worker.ref(); // a job in hand keeps the process alive until it is answered
    const id = ++this.serial;
    return new Promise<string | boolean>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      worker.postMessage({ id, job });
    });
  }

  private take(): Promise<Worker> {
    const worker = this.idle.pop() ?? (this.all.length < this.size ? this.spawn() : undefined);
    if (worker) return Promise.resolve(worker);
    return new Promise((resolve) => this.queue.push(() => resolve(this.take())));
  }

  private spawn(): Worker {
    const argon2Path = createRequire(import.meta.url).resolve('@node-rs/argon2');
    const worker = new Worker(source(argon2Path), { eval: true, name: 'argon2' });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(reply.error));
      this.release(worker);
    });
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, new Error('hash worker exited')));
    this.all.push(worker);
    return worker;
  }

  private release(worker: Worker): void {
    worker.unref();
    this.idle.push(worker);
    this.queue.shift()?.();
  }

  /** A worker that died takes its job with it (rejected); the next job spawns a replacement. */
  private fail(worker: Worker, error: Error): void {
    const index = this.all.indexOf(worker);
    if (index === -1) return;
    this.all.splice(index, 1);
    const idleAt = this.idle.indexOf(worker);
    if (idleAt !== -1) this.idle.splice(idleAt, 1);
    for (const [id, waiter] of this.pending) {
      if (waiter.worker !== worker) continue;
      this.pending.delete(id);
      waiter.reject(error);
    }
    if (!this.closed) this.queue.shift()?.();
  }
}
