import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/app.js';
import { freePort } from '../helpers/ports.js';

/** The process's children (the cluster's workers), from /proc. */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('WEB_CONCURRENCY: a cluster of workers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bima-cluster-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let stderr = '';

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('replaces a worker that dies, after a delay that grows while replacements keep dying young, and stops on SIGTERM', async () => {
    const port = await freePort();
    const primary = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, NODE_ENV: 'development', PORT: String(port), DATABASE_URL: database.url, REDIS_URL: process.env.TEST_REDIS_URL,
        DATA_DIR: dataDir, SEED_DEMO_DATA: 'false', LOG_LEVEL: 'warn', WEB_CONCURRENCY: '2', HASH_CONCURRENCY: '1', DOCS_ENABLED: 'false' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    primary.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => primary.on('exit', (code) => resolve(code)));
    const ready = () => fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => (r.ok ? true : undefined), () => undefined);
    await until('readiness', ready, 60_000);
    const workers = await until('two workers', () => (childrenOf(primary.pid!).length === 2 ? childrenOf(primary.pid!) : undefined));

    // A replacement killed the moment it appears dies young, and each young death in a row waits twice as long as
    // the one before. (The first worker may or may not count as young, depending on how long its start took.)
    const replace = async (pid: number): Promise<{ next: number; delayS: number }> => {
      process.kill(pid, 'SIGKILL');
      const line = await until(`the log of ${pid}'s death`, () => new RegExp(`^worker ${pid} exited \\(SIGKILL\\); starting a replacement(?: in (\\d+) s)?$`, 'm').exec(stderr) ?? undefined);
      const next = await until('a replacement', () => childrenOf(primary.pid!).find((p) => p !== pid && p !== workers[1]));
      return { next, delayS: Number(line[1] ?? 0) };
    };
    const first = await replace(workers[0]!);
    const second = await replace(first.next);
    const third = await replace(second.next);
    expect(second.delayS).toBeGreaterThanOrEqual(1);
    expect(third.delayS).toBe(2 * second.delayS);
    expect(childrenOf(primary.pid!).sort()).toEqual([third.next, workers[1]!].sort());
    await until('readiness after the replacements', ready);

    primary.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
  }, 90_000);
});
