import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite as PGliteInstance } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, type LogEvent } from 'kysely';
import postgres from 'postgres';
import { readTimestamptz } from './timestamptz.js';
import { discardTemplate, extractTemplate, readTemplate, templatePath, writeTemplate } from './pglite-template.js';
import { assertPostgresPatched, PostgresJsDialect, type PoolStats } from './postgres-js.js';
import type { DB } from './types.js';

export type DatabaseKind = 'postgres' | 'pglite';
export type { PoolStats };

export interface Database {
  db: Kysely<DB>;
  kind: DatabaseKind;
  /** Load on the connections, for metrics (PGlite: one connection, nothing waits). */
  poolStats(): PoolStats;
  close(): Promise<void>;
  /** Run once migrations have applied on start; a fresh PGlite cluster keeps itself as the template for the next one. */
  afterMigrations?(): Promise<void>;
  /** Set by the metrics plugin: sees every query's duration. */
  queryObserver?: (event: LogEvent) => void;
}

export interface DatabaseOptions {
  /** PostgreSQL connections in all (default 10): `pipelineConnections` of them for queries outside transactions, the rest for transactions. */
  poolMax?: number;
  /** Connections that queries outside a transaction share, pipelined (default 1; postgres-js.ts says why few). */
  pipelineConnections?: number;
  /** Named prepared statements on PostgreSQL (postgres-js.ts); off behind a transaction-mode pooler. Default on. */
  prepare?: boolean;
  onQuery?: (event: LogEvent) => void;
}

const INT8 = 20;
const DATE = 1082;
const TIMESTAMPTZ = 1184;

const BOOL = 16;
const JSON_OID = 114;
const JSONB = 3802;

// Money and counts fit in 2^53 (sums assured are capped at 1e13 paise), so
// int8 is read as a number; calendar dates stay 'YYYY-MM-DD' strings so no
// time zone can shift them; instants are Dates (read fast: timestamptz.ts).
// JSON parameters are sent as they come when already text, so a value
// serialised by the caller is not encoded twice.
const postgresTypes = {
  bigint: { to: INT8, from: [INT8], serialize: (v: unknown) => String(v), parse: (v: string) => Number(v) },
  date: { to: DATE, from: [DATE], serialize: (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v)), parse: (v: string) => v },
  timestamptz: { to: TIMESTAMPTZ, from: [TIMESTAMPTZ], serialize: (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)), parse: readTimestamptz },
  json: { to: JSONB, from: [JSON_OID, JSONB], serialize: (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v)), parse: (v: string) => JSON.parse(v) as unknown },
  // postgres.js serialises a retried query's parameters a second time (upstream #1197): 't' must stay 't'.
  boolean: { to: BOOL, from: [BOOL], serialize: (v: unknown) => (v === true || v === 't' ? 't' : v === false || v === 'f' ? 'f' : String(v)), parse: (v: string) => v === 't' },
};

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
      db, kind: 'pglite', poolStats: () => ({ inFlight: 0, transactions: 0, waiting: 0 }), close: () => db.destroy(),
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
  assertPostgresPatched();
  const counters: PoolStats = { inFlight: 0, transactions: 0, waiting: 0 };
  const poolMax = options.poolMax ?? 10;
  // With room for at least one transaction beside them, pipelined queries get connections of their own; otherwise all share one pool.
  const pipelined = Math.min(options.pipelineConnections ?? 1, poolMax - 1);
  const client = (max: number) => postgres(url, {
    max,
    connect_timeout: 3,
    // Queries in flight on one connection before postgres.js queues the next ones in the pool. A queued
    // query is sent only once its connection has answered everything in flight, so past the default
    // (100) a busy connection runs stop-and-go batches: at 1000 concurrent clients, policy reads on one
    // connection went from 6,900 to 8,300-8,500/s with this raised (bench, quick runs). Not in
    // postgres.js's types or README, but an option its code reads (src/index.js; the version is pinned).
    ...({ max_pipeline: 1000 } as object),
    idle_timeout: 30,
    // Reconnect at once, then a little later per failure, at most 0.5 s: during an outage requests fail fast
    // (503) instead of queueing behind postgres.js's default backoff, which grows to 20 s.
    backoff: (retries: number) => Math.min(retries * 0.05, 0.5),
    connection: { application_name: 'bima-api', statement_timeout: 15_000 },
    // Notices ("relation already exists, skipping") are not errors; the query log sees what matters.
    onnotice: () => undefined,
    // An undefined parameter is NULL, as with pg (postgres.js refuses it by default).
    transform: { undefined: null },
    types: postgresTypes,
  });
  const sql = client(pipelined >= 1 ? pipelined : poolMax);
  const reserveFrom = pipelined >= 1 ? client(poolMax - pipelined) : sql;
  const db = new Kysely<DB>({ dialect: new PostgresJsDialect({ sql, reserveFrom, prepare: options.prepare !== false, counters }), log });
  database = {
    db,
    kind: 'postgres',
    poolStats: () => ({ ...counters }),
    close: () => db.destroy(),
  };
  return database;
}
