import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Every process the bench starts, so an interrupted run can stop exactly those. */
const started = new Set<ChildProcess>();

export interface ServerHandle {
  child: ChildProcess;
  pid: number;
  /** Resolves when the process has exited (after stop() or on its own). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts `node <args>` with `env` added to ours, its output appended to `logPath`. */
export function startNode(args: string[], env: Record<string, string>, logPath: string, cwd: string): ServerHandle {
  const log = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  started.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    started.delete(child);
    resolve(code);
  }));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) child.kill('SIGKILL');
    await exited;
  };
  if (child.pid === undefined) throw new Error(`could not start node ${args.join(' ')}`);
  return { child, pid: child.pid, exited, stop };
}

/** Stops every process the bench started (on Ctrl-C or a failure). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((child) => {
    child.kill('SIGTERM');
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, 10_000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
    });
  }));
}

/** Polls `url` until it answers 200; returns the milliseconds from `since` (performance.now()). Bounded by `timeoutMs`. */
export async function waitFor200(url: string, since: number, timeoutMs: number, server?: ServerHandle): Promise<number> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (server && server.child.exitCode !== null) throw new Error(`process exited with ${server.child.exitCode} before ${url} answered`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** Resident memory of a process, from /proc (Linux). */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/**
 * RSS now, and the lowest RSS seen while the process stays idle until
 * `untilAgeS` seconds after `since` (5 s polls): V8's memory reducer may
 * return unused heap some 30-40 s into idleness (seen here: ~310 MB → ~195 MB),
 * or may not, so both readings are kept.
 */
export async function idleMemory(pid: number, since: number, untilAgeS = 60): Promise<{ firstRssMb: number; minRssMb: number; ageS: number }> {
  const firstRssMb = memoryOf(pid).rssMb;
  let minRssMb = firstRssMb;
  while ((performance.now() - since) / 1000 < untilAgeS) {
    await sleep(5000);
    minRssMb = Math.min(minRssMb, memoryOf(pid).rssMb);
  }
  return { firstRssMb, minRssMb, ageS: (performance.now() - since) / 1000 };
}

export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', () => reject(new Error(`port ${port} on 127.0.0.1 is in use; pick others with --port`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^bima_bench_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to drop ${name}: not a bench database`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function serverVersions(adminUrl: string, redisUrl: string): Promise<{ postgres: string; redis: string }> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  return { postgres: rows[0]?.server_version ?? '?', redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?' };
}

export async function flushRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await redis.flushdb();
  redis.disconnect();
}
