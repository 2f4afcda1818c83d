import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createDatabase } from './database.js';
import { migrateToLatest, migrations } from './migrate.js';
import { extractTemplate, readTemplate, templatePath, writeTemplate } from './pglite-template.js';

/** A ustar archive as PGlite's dumpDataDir writes one: names with a leading slash, files ('0') and directories ('5'). */
function tarOf(entries: Array<{ name: string; type?: '0' | '5' | '2'; data?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, type = '0', data = '' } of entries) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 'utf8');
    header.write('0000644\0', 100);
    header.write(`${Buffer.byteLength(data).toString(8).padStart(11, '0')}\0`, 124);
    header.write(type, 156);
    header.write('ustar\0', 257);
    blocks.push(header);
    const body = Buffer.alloc(Math.ceil(Buffer.byteLength(data) / 512) * 512);
    body.write(data);
    blocks.push(body);
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

describe('the PGlite template', () => {
  it('is kept beside PGlite, named by its version and the migrations\' sources', () => {
    const path = templatePath();
    expect(path).toMatch(/node_modules[/\\]\.cache[/\\]bima[/\\]pglite-\d+\.\d+\.\d+-[0-9a-f]{16}\.tar\.gz$/);
    expect(templatePath()).toBe(path);
  });

  it('is one for every form that runs from the checkout: its name follows the migrations\' TypeScript text, not the code that runs', () => {
    const real = templatePath();
    const copy = mkdtempSync(join(tmpdir(), 'bima-migrations-'));
    try {
      for (const name of Object.keys(migrations)) writeFileSync(join(copy, `${name}.ts`), readFileSync(join('src', 'db', 'migrations', `${name}.ts`)));
      // The same text elsewhere: the same template, whatever compiled or transformed it.
      expect(templatePath(copy)).toBe(real);
      const last = join(copy, `${Object.keys(migrations).at(-1)!}.ts`);
      writeFileSync(last, `${readFileSync(last, 'utf8')}\n// edited\n`);
      expect(templatePath(copy)).not.toBe(real);
      // Without the sources (the Docker image), the running code names it: another template, and a stable one.
      const none = join(copy, 'none');
      expect(templatePath(none)).not.toBe(real);
      expect(templatePath(none)).toBe(templatePath(none));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a fresh database starts from it, already migrated, once one is kept', async () => {
    const first = createDatabase('pglite://memory');
    await migrateToLatest(first.db);
    await first.afterMigrations?.();
    await first.close();
    expect(readTemplate(templatePath())).not.toBeNull();

    const second = createDatabase('pglite://memory');
    // Started from the template: nothing to keep, nothing left to apply.
    expect(second.afterMigrations).toBeUndefined();
    const result = await migrateToLatest(second.db);
    expect(result.results).toEqual([]);
    const applied = await second.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    expect(applied.map((row) => (row as { name: string }).name)).toEqual(Object.keys(migrations));
    await second.close();
  });

  it('is gzipped on disk and read back as the plain tar PGlite loads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bima-template-'));
    try {
      const path = join(dir, 'pglite-0.5.2-00112233aabbccdd.tar.gz');
      const tar = new Uint8Array(64 * 1024).fill(7);
      await writeTemplate(path, tar);
      expect(gunzipSync(readFileSync(path)).equals(Buffer.from(tar))).toBe(true);
      expect(readTemplate(path)!.equals(Buffer.from(tar))).toBe(true);
      expect(readdirSync(dir)).toEqual(['pglite-0.5.2-00112233aabbccdd.tar.gz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writing one removes the templates no form has used for a day, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bima-template-'));
    try {
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
      const stale = join(dir, 'pglite-0.5.0-0123456789abcdef.tar.gz');
      const inUse = join(dir, 'pglite-0.5.2-fedcba9876543210.tar.gz');
      const unrelated = join(dir, 'unrelated.tar.gz');
      for (const file of [stale, inUse, unrelated]) {
        writeFileSync(file, gzipSync(Buffer.from('x')));
        utimesSync(file, twoDaysAgo, twoDaysAgo);
      }
      // Another form (tsx, Vitest, the compiled build) read its template today.
      expect(readTemplate(inUse)).not.toBeNull();
      await writeTemplate(join(dir, 'pglite-0.5.2-00112233aabbccdd.tar.gz'), new Uint8Array([1, 2, 3]));
      expect(readdirSync(dir).sort()).toEqual(['pglite-0.5.2-00112233aabbccdd.tar.gz', 'pglite-0.5.2-fedcba9876543210.tar.gz', 'unrelated.tar.gz']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a fresh data directory on disk starts from it, and then restarts as an existing cluster', async () => {
    const warm = createDatabase('pglite://memory');
    await migrateToLatest(warm.db);
    await warm.afterMigrations?.();
    await warm.close();
    const dir = mkdtempSync(join(tmpdir(), 'bima-pglite-'));
    try {
      const fresh = createDatabase(`pglite://${dir}`);
      expect(fresh.afterMigrations).toBeUndefined();
      expect((await migrateToLatest(fresh.db)).results).toEqual([]);
      await sql`CREATE TABLE kept (v text)`.execute(fresh.db);
      await sql`INSERT INTO kept VALUES ('across a restart')`.execute(fresh.db);
      await fresh.close();
      expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);

      const again = createDatabase(`pglite://${dir}`);
      const { rows } = await sql<{ v: string }>`SELECT v FROM kept`.execute(again.db);
      expect(rows).toEqual([{ v: 'across a restart' }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('extraction writes files and directories, and refuses what it cannot write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bima-extract-'));
    try {
      extractTemplate(tarOf([{ name: '/PG_VERSION', data: '17\n' }, { name: '/base', type: '5' }, { name: '/base/1/112', data: 'page' }]), dir);
      expect(readFileSync(join(dir, 'PG_VERSION'), 'utf8')).toBe('17\n');
      expect(readFileSync(join(dir, 'base', '1', '112'), 'utf8')).toBe('page');

      // An entry of a kind it does not write (a link) refuses the whole template, before anything is written.
      const cut = mkdtempSync(join(tmpdir(), 'bima-extract-'));
      try {
        expect(() => extractTemplate(tarOf([{ name: '/PG_VERSION', data: '17' }, { name: '/global/1', data: 'x' }, { name: '/link', type: '2' }]), cut)).toThrow(/entry type 2/);
        expect(existsSync(join(cut, 'global'))).toBe(false);
        expect(existsSync(join(cut, 'PG_VERSION'))).toBe(false);
      } finally {
        rmSync(cut, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an entry that would land outside the data directory', () => {
    const parent = mkdtempSync(join(tmpdir(), 'bima-extract-'));
    try {
      const dir = join(parent, 'data');
      expect(() => extractTemplate(tarOf([{ name: '/../escaped', data: 'x' }]), dir)).toThrow(/bad entry/);
      expect(existsSync(join(parent, 'escaped'))).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('a damaged archive is refused before anything is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bima-extract-'));
    try {
      const whole = tarOf([{ name: '/PG_VERSION', data: '17' }, { name: '/base/1/112', data: 'x'.repeat(600) }]);
      // Cut inside the second file: its header promises more bytes than there are.
      expect(() => extractTemplate(whole.subarray(0, 512 * 3), dir)).toThrow(/bad entry/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('half-written templates left by a killed process are removed after an hour, fresh ones kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bima-template-'));
    try {
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      const abandoned = join(dir, 'pglite-0.5.2-00112233aabbccdd.tar.gz.4242.abc.partial');
      const inProgress = join(dir, 'pglite-0.5.2-00112233aabbccdd.tar.gz.4343.def.partial');
      writeFileSync(abandoned, 'x');
      utimesSync(abandoned, twoHoursAgo, twoHoursAgo);
      writeFileSync(inProgress, 'x');
      await writeTemplate(join(dir, 'pglite-0.5.2-00112233aabbccdd.tar.gz'), new Uint8Array([1]));
      expect(readdirSync(dir).sort()).toEqual(['pglite-0.5.2-00112233aabbccdd.tar.gz', 'pglite-0.5.2-00112233aabbccdd.tar.gz.4343.def.partial']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
