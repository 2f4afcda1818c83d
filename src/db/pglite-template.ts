import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { migrations } from './migrate.js';

/**
 * A freshly migrated, empty PGlite cluster, kept as a tarball so the next
 * fresh data directory (a reset dev database, every test file's in-memory
 * database) loads it instead of running initdb and every migration again:
 * PGlite's initdb alone takes 2-3 s of WebAssembly. The file name carries
 * PGlite's version and a hash of the migrations' code, so a new PGlite or a
 * changed migration simply makes a new template; it lives in
 * node_modules/.cache, beside the package it belongs to.
 */
export function templatePath(): string | null {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const marker = join('node_modules', '@electric-sql', 'pglite');
    const at = entry.lastIndexOf(marker);
    if (at === -1) return null;
    const packageDir = entry.slice(0, at + marker.length);
    const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
    const code = Object.entries(migrations).map(([name, m]) => `${name}\n${m.up.toString()}\n${m.down?.toString() ?? ''}`).join('\n');
    const key = createHash('sha256').update(version).update('\n').update(code).digest('hex').slice(0, 16);
    return join(entry.slice(0, at), 'node_modules', '.cache', 'bima', `pglite-${version}-${key}.tar.gz`);
  } catch {
    return null;
  }
}

export function readTemplate(path: string | null): Buffer | null {
  if (!path || !existsSync(path)) return null;
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/** Written to a temporary name and renamed, so a concurrent reader never sees half a file. */
export function writeTemplate(path: string, data: Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    writeFileSync(partial, data);
    renameSync(partial, path);
  } catch {
    // A cache: failing to keep it costs the next start time, nothing else.
  }
}
