import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode, waitFor200 } from './infra.js';

export interface StartTimes {
  /** What npm install's postinstall spent preparing the template (`prepare`), when the form has such a step. */
  prepareMs: number | null;
  /** The first start on this machine: with no `prepare`, PGlite runs initdb and every migration, then keeps the template. */
  firstMs: number;
  /** Fresh directory each time, from the kept template (src/db/pglite-template.ts); the app creates its dev keys. */
  coldMs: number[];
  /** Restarts on an existing directory: what a redeploy or a laptop restart costs. */
  warmMs: number[];
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * Spawn to first 200 from /health/ready of the server (`args` to node) on PGlite: the first start, `runs` fresh, then `runs` restarts.
 * `prepare` (args to node) is what npm install runs after it (postinstall): timed, then the first start follows it.
 */
export async function measurePgliteStart(root: string, port: number, runs: number, logPath: string, args: string[], prepare?: string[]): Promise<StartTimes> {
  const coldMs: number[] = [];
  const warmMs: number[] = [];
  let lastDir: string | null = null;
  // The machine as a fresh clone has it: no PGlite template kept yet (and no bundle).
  rmSync(join(root, 'node_modules', '.cache', 'bima'), { recursive: true, force: true });
  let prepareMs: number | null = null;
  if (prepare) {
    const started = performance.now();
    execFileSync(process.execPath, prepare, { cwd: root, stdio: 'inherit' });
    prepareMs = performance.now() - started;
    console.log(`  npm install's preparation (node ${prepare.join(' ')}): ${prepareMs.toFixed(0)} ms`);
  }
  const firstDir = mkdtempSync(join(tmpdir(), 'bima-bench-pglite-'));
  let firstMs: number;
  try {
    firstMs = await timeStart(root, port, firstDir, logPath, args);
  } finally {
    rmSync(firstDir, { recursive: true, force: true });
  }
  try {
    console.log(`  PGlite first start (${prepare ? "after the preparation" : "no template yet"}): ${firstMs.toFixed(0)} ms`);
    for (let i = 0; i < runs; i++) {
      if (lastDir) rmSync(lastDir, { recursive: true, force: true });
      lastDir = mkdtempSync(join(tmpdir(), 'bima-bench-pglite-'));
      coldMs.push(await timeStart(root, port, lastDir, logPath, args));
      console.log(`  PGlite cold start ${i + 1}/${runs}: ${coldMs.at(-1)!.toFixed(0)} ms`);
    }
    for (let i = 0; i < runs; i++) {
      warmMs.push(await timeStart(root, port, lastDir!, logPath, args));
      console.log(`  PGlite warm start ${i + 1}/${runs}: ${warmMs.at(-1)!.toFixed(0)} ms`);
    }
  } finally {
    if (lastDir) rmSync(lastDir, { recursive: true, force: true });
  }
  return { prepareMs, firstMs, coldMs, warmMs };
}

async function timeStart(root: string, port: number, dir: string, logPath: string, args: string[]): Promise<number> {
  const env = {
    NODE_ENV: 'development', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false', PORT: String(port), HOST: '127.0.0.1',
    DATABASE_URL: `pglite://${join(dir, 'db')}`, DATA_DIR: dir, REDIS_URL: '',
  };
  const since = performance.now();
  const server = startNode(args, env, logPath, root);
  try {
    return await waitFor200(`http://127.0.0.1:${port}/health/ready`, since, 60_000, server);
  } finally {
    await server.stop();
  }
}
