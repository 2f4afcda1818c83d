import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite as PGliteInstance } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { timestamptzParser } from './timestamptz.js';
import { discardTemplate, extractTemplate, readTemplate, templatePath, writeTemplate } from './pglite-template.js';
import { preparingPool } from './prepared.js';
import type { DB } from './types.js';

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database {
  db: Kysely<DB>;
  kind: DatabaseKind;
  /** Pool statistics for metrics; PGlite has one connection. */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
  /** Run once migrations have applied on start; a fresh PGlite cluster keeps itself as the template for the next one. */
  afterMigrations?(): Promise<void>;
  /** Set by the metrics plugin: sees every query's duration. */
  queryObserver?: (event: LogEvent) => void;
}

export interface DatabaseOptions {
  poolMax?: number;
  /** Named prepared statements on PostgreSQL (preparingPool); off behind a transaction-mode pooler. Default on. */
  prepare?: boolean;
  onQuery?: (event: LogEvent) => void;
}

const INT8 = 20;
const DATE = 1082;
const TIMESTAMPTZ = 1184;

// Money and counts fit in 2^53 (sums assured are capped at 1e13 paise), so
// int8 is parsed as a number; calendar dates stay 'YYYY-MM-DD' strings so no
// time zone can shift them.
pg.types.setTypeParser(INT8, (v) => Number(v));
pg.types.setTypeParser(DATE, (v) => v);
// Instants come back as Dates, as before, read faster (timestamptz.ts).
// (Wrapping pg's own parser once, however often this module is evaluated: Vitest evaluates it per test file.)
const installed = pg.types.getTypeParser(TIMESTAMPTZ) as ((text: string) => unknown) & { fallback?: (text: string) => unknown };
pg.types.setTypeParser(TIMESTAMPTZ, timestamptzParser(installed.fallback ?? installed));

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  // Assigned below; the log callback reads it at query time, after the metrics plugin has set its observer.
  let database: Database | undefined;
  const log = (event: LogEvent) => {
    options.onQuery?.(event);
    database?.queryObserver?.(event);
  };
  if (url.startsWith('pglite://')) {
    const location = url.slice('pglite://'.length);
    const dataDir = location === 'memory' ? undefined : location;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    // A fresh cluster starts from the migrated template when there is one (pglite-template.ts).
    const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
    const templateFile = fresh ? templatePath() : null;
    let template = readTemplate(templateFile);
    // On disk the template's files are written directly and PGlite opens them as an existing cluster (faster than its loadDataDir).
    if (template && dataDir) {
      try {
        extractTemplate(template, dataDir);
      } catch {
        // Not a template this version can read (a newer PGlite's tar, a damaged file): initdb as if there were none, and keep a new one.
        discardTemplate(templateFile);
        template = null;
      }
    }
    // Imported only when used: a PostgreSQL deployment never loads the WebAssembly build.
    let instance: Promise<PGliteInstance> | undefined;
    const client = () => {
      instance ??= (async () => {
        const [{ PGlite }, { pg_trgm }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite/contrib/pg_trgm')]);
        return new PGlite({
          ...(dataDir ? { dataDir } : {}),
          ...(template && !dataDir ? { loadDataDir: new Blob([template]) } : {}),
          extensions: { pg_trgm },
          parsers: { [INT8]: (v: string) => Number(v), [DATE]: (v: string) => v },
        });
      })();
      return instance;
    };
    const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite: client }), log });
    database = {
      db, kind: 'pglite', poolStats: () => ({ total: 1, idle: 1, waiting: 0 }), close: () => db.destroy(),
      // Only a cluster that started empty and has just been migrated is a template.
      ...(templateFile && !template ? {
        async afterMigrations() {
          const dump = await (await client()).dumpDataDir('none');
          await writeTemplate(templateFile, new Uint8Array(await dump.arrayBuffer()));
        },
      } : {}),
    };
    return database;
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 15_000,
    application_name: 'bima-api',
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: options.prepare === false ? pool : preparingPool(pool) }), log });
  database = {
    db,
    kind: 'postgres',
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => db.destroy(),
  };
  return database;
}
