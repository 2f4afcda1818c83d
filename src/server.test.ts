import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const dataDir = mkdtempSync(join(tmpdir(), 'bima-server-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the server process', () => {
  it('starts on embedded PGlite, finishes in-flight requests on SIGTERM, and exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, NODE_ENV: 'development', PORT: String(port), DATABASE_URL: `pglite://${join(dataDir, 'db')}`, DATA_DIR: dataDir,
        SEED_DEMO_DATA: 'true', LOG_LEVEL: 'warn', REDIS_URL: '', HASH_CONCURRENCY: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    let ready = false;
    for (let i = 0; i < 120 && !ready; i++) {
      ready = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(ready).toBe(true);
    const login = () => fetch(`${base}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'password', phone_number: '+919800000001', password: 'bima demo password 2026' }),
    }).then((r) => r.status, (error: unknown) => `dropped: ${String(error)}`);
    // Argon2 runs one at a time here: once the first sign-in is answered, the
    // server has accepted all six and the other five are queued in the handler.
    const attempts = Array.from({ length: 6 }, login);
    await Promise.race(attempts);
    child.kill('SIGTERM');
    const answers = await Promise.all(attempts);
    expect(answers.every((a) => a === 200 || a === 503), JSON.stringify(answers)).toBe(true);
    expect(answers.filter((a) => a === 200).length, JSON.stringify(answers)).toBeGreaterThan(1);
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  }, 60_000);
});
