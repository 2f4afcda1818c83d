import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBundle, prepareTemplate } from '../scripts/start.mjs';
import { freePort } from '../test/helpers/ports.js';

const dataDir = mkdtempSync(join(tmpdir(), 'bima-server-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start (scripts/start.mjs)', () => {
  it('builds the bundle once, and again only when an input it recorded has changed', async () => {
    const first = await ensureBundle();
    const again = await ensureBundle();
    expect(again).toEqual({ path: first.path, built: false });
    const inputsFile = join(first.path, '..', 'inputs.json');
    const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as Record<string, string>;
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['src/server.ts', 'src/db/migrate.ts', 'node_modules/.package-lock.json']));
    writeFileSync(inputsFile, JSON.stringify({ ...inputs, 'src/server.ts': 'an older copy' }));
    expect((await ensureBundle()).built).toBe(true);
    expect(JSON.parse(readFileSync(inputsFile, 'utf8'))).toEqual(inputs);
  }, 60_000);

  it("npm install's preparation starts the bundle until it is ready and stops it; one that cannot start is reported, not waited for", async () => {
    await expect(prepareTemplate((await ensureBundle()).path)).resolves.toBeUndefined();
    const broken = join(dataDir, 'broken.mjs');
    writeFileSync(broken, "process.stderr.write('no database here'); process.exit(3);");
    await expect(prepareTemplate(broken)).rejects.toThrow(/exited with 3 before it was ready: no database here/);
  }, 60_000);
});

describe('the server process', () => {
  it('starts (as npm start runs it, rebuilding a stale bundle first) on embedded PGlite, finishes in-flight requests on SIGTERM, and exits 0', async () => {
    const port = await freePort();
    // A recorded input that no longer matches: this start must build the bundle before it serves (start.mjs does it in a child process).
    const inputsFile = join((await ensureBundle()).path, '..', 'inputs.json');
    const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as Record<string, string>;
    writeFileSync(inputsFile, JSON.stringify({ ...inputs, 'src/server.ts': 'an older copy' }));
    const child = spawn(process.execPath, ['scripts/start.mjs'], {
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
    expect(JSON.parse(readFileSync(inputsFile, 'utf8'))).toEqual(inputs);
    // What the bundle leaves to node_modules still loads from it: the docs UI (imported lazily), the OpenAPI document.
    expect((await fetch(`${base}/docs`, { redirect: 'follow' })).status).toBe(200);
    expect((await fetch(`${base}/openapi.json`).then((r) => r.json()) as { openapi: string }).openapi).toMatch(/^3\.1/);
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
