import {
  AbortedTransactionError, CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryCompiler, type QueryResult, type TransactionSettings,
} from 'kysely';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReservedSql, Sql } from 'postgres';

/**
 * Whether postgres.js carries patches/postgres+3.4.9.patch (applied by
 * patch-package on npm install). Without it a database that goes away can
 * crash the process or leave requests waiting forever, so the service
 * refuses to start on PostgreSQL rather than run unpatched.
 */
export function assertPostgresPatched(): void {
  // The CommonJS entry (cjs/src/index.js) resolves here; imports load the ES copy in src/. Both must carry the patch.
  const cjs = dirname(createRequire(import.meta.url).resolve('postgres'));
  const copies = [cjs, join(cjs, '..', '..', 'src')];
  const patched = copies.every((dir) => ['index.js', 'connection.js', 'query.js'].every((file) => readFileSync(join(dir, file), 'utf8').includes('bima patch')));
  if (!patched) throw new Error('postgres.js is not patched (patches/postgres+3.4.9.patch): run `npx patch-package`, or npm install without --ignore-scripts.');
}

const pinned = new AsyncLocalStorage<true>();
/** Pinned runs in progress: the last one to end turns `pinned` off. */
let pinnedRuns = 0;

/**
 * Runs `fn` with every Kysely connection holding a PostgreSQL session of its
 * own, as `db.connection()` does on pg. Outside it, queries that are not in a
 * transaction share pipelined connections, so session state (a session-level
 * advisory lock, SET) would not stay with the code that made it. Kysely's
 * migrator takes such a lock: migrations run inside this.
 */
export async function withPinnedConnections<T>(fn: () => Promise<T>): Promise<T> {
  pinnedRuns++;
  try {
    return await pinned.run(true, fn);
  } finally {
    // On Node 20 an enabled AsyncLocalStorage keeps a hook on every promise the
    // process creates, for good: 2-4% of the CPU of a policy read, measured by
    // the bench's profile. Once the last pinned run is over, nothing needs it.
    if (--pinnedRuns === 0) pinned.disable();
  }
}

/** Whether a pinned run holds AsyncLocalStorage (and its promise hooks) on; for tests. */
export const pinningEnabled = (): boolean => (pinned as unknown as { enabled?: boolean }).enabled === true;

export interface PostgresJsConfig {
  /** Queries outside a transaction, pipelined onto its connections. */
  sql: Sql;
  /** Where transactions (and pinned sessions) reserve a connection of their own; default `sql`. */
  reserveFrom?: Sql;
  /** Named prepared statements; off behind a transaction-mode pooler. */
  prepare: boolean;
  maxPrepared?: number;
  /** How long a transaction waits for a connection of its own before it fails with POOL_EXHAUSTED (default 3000 ms). */
  reserveTimeoutMs?: number;
  /** Kept current for the metrics: queries sent and not yet answered, transactions holding a connection, transactions waiting for one. */
  counters?: PoolStats;
}

/** Thrown when a transaction found no connection in time: load to shed (503), not an outage. */
export class PoolExhaustedError extends Error {
  readonly code = 'POOL_EXHAUSTED';
  constructor(ms: number) {
    super(`No database connection became free within ${ms} ms.`);
    this.name = 'PoolExhaustedError';
  }
}

/**
 * Kysely over postgres.js, keeping what makes postgres.js fast: a query outside
 * a transaction goes to the shared pool, where postgres.js pipelines
 * concurrent queries onto its connections (many requests' queries in one
 * socket write, their answers in one read). Only a transaction reserves a
 * connection of its own, from BEGIN until COMMIT or ROLLBACK.
 *
 * (kysely-postgres-js reserves a connection for every query, which gives the
 * pipelining up: one query per connection at a time, as with pg.)
 *
 * Pipelined reads do best on few connections (`sql`). postgres.js sends a
 * query to an idle connection first, and to the busy ones in turn, so a pool
 * of 10 spread concurrent queries over 10 sockets, one write and one read
 * each per turn of the event loop, and those socket calls were the API's
 * largest cost after parsing (8% of a policy list's CPU). On 3 connections,
 * policy reads at 1000 concurrent clients went from 1.6x to 2.5x the bench's
 * reference server; on 1 (with a deeper pipeline, database.ts), from about
 * 6,900 to 8,300-8,500 reads/s, where 2 or 3 stayed at 6,400-7,200. The
 * price: a slow statement delays every read pipelined behind it (up to
 * statement_timeout); DATABASE_PIPELINE_CONNECTIONS trades that back.
 * Transactions reserve their connections from a pool of their own
 * (`reserveFrom`), where writes outside a transaction are pipelined too, so
 * no read waits behind a commit's WAL flush on its socket (isRead).
 *
 * Statements: the first `maxPrepared` distinct SQL texts run as named prepared
 * statements (parsed and planned once per connection, then bound by name); any
 * text past that runs unnamed, so a generator of unbounded texts cannot grow
 * every connection's statement cache without end. Kysely's texts are bounded
 * in practice (values are always parameters), so all of ours are prepared.
 */
export class PostgresJsDialect implements Dialect {
  constructor(private readonly config: PostgresJsConfig) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    const { sql, reserveFrom = sql, prepare, maxPrepared = 1000, reserveTimeoutMs = 3000, counters = { inFlight: 0, transactions: 0, waiting: 0 } } = this.config;
    return new PostgresJsDriver(sql, prepare ? maxPrepared : 0, { reserveFrom, reserveTimeoutMs, counters });
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
}

class PostgresJsDriver implements Driver {
  private readonly prepared = new Set<string>();

  constructor(private readonly sql: Sql, private readonly maxPrepared: number, private readonly options: ConnectionOptions) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = new PostgresJsConnection(this.sql, this.prepareText, this.options);
    if (pinned.getStore()) await connection.hold();
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      statement = 'start transaction';
      if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) statement += ` ${settings.accessMode}`;
    }
    await (connection as PostgresJsConnection).begin(statement);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { rows } = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'));
    // PostgreSQL answers COMMIT with ROLLBACK when an earlier error (one the caller caught) aborted the transaction.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const own = connection as PostgresJsConnection;
    // A connection that was lost took its transaction with it: the server has rolled it back.
    if (own.lost) return;
    try {
      await own.executeQuery(CompiledQuery.raw('rollback'));
    } catch (error) {
      own.discard();
      throw error;
    }
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.savepointCommand(connection, 'savepoint', name);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.savepointCommand(connection, 'rollback to savepoint', name);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.savepointCommand(connection, 'release savepoint', name);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresJsConnection).release();
  }

  async destroy(): Promise<void> {
    const { reserveFrom } = this.options;
    await Promise.all([this.sql.end({ timeout: 5 }), reserveFrom === this.sql ? undefined : reserveFrom.end({ timeout: 5 })]);
  }

  /** Whether a text runs as a named prepared statement: yes for the first maxPrepared texts seen, and texts with parameters only. */
  private readonly prepareText = (text: string, parameters: number): boolean => {
    if (parameters === 0) return false;
    if (this.prepared.has(text)) return true;
    if (this.prepared.size >= this.maxPrepared) return false;
    this.prepared.add(text);
    return true;
  };

  private async savepointCommand(connection: DatabaseConnection, command: string, name: string) {
    // Savepoint names come from the application's own code (Kysely's savepoint API), quoted as identifiers all the same.
    await connection.executeQuery(CompiledQuery.raw(`${command} "${name.replaceAll('"', '""')}"`));
  }
}

/** Queries sent and not yet answered; transactions (and pinned sessions) holding a connection of their own; those waiting for one. */
export interface PoolStats {
  inFlight: number;
  transactions: number;
  waiting: number;
}

interface ConnectionOptions {
  reserveFrom: Sql;
  reserveTimeoutMs: number;
  counters: PoolStats;
}

/** postgres.js's codes for a connection that is gone (the server, or the network to it). */
const LOST = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

class PostgresJsConnection implements DatabaseConnection {
  private reserved: ReservedSql | undefined;
  /** Set once its connection is gone: nothing more is sent on it (the server has rolled its transaction back). */
  lost = false;
  /** Released: any later query is refused rather than run on the pool outside the transaction it belonged to. */
  private ended = false;
  private discarded = false;

  constructor(private readonly sql: Sql, private readonly prepareText: (text: string, parameters: number) => boolean, private readonly options: ConnectionOptions) {}

  private get counters() {
    return this.options.counters;
  }

  /** Holds a connection of its own until released: for a transaction, or for every use inside withPinnedConnections. */
  async hold(): Promise<void> {
    if (this.reserved) return;
    this.counters.waiting++;
    try {
      this.reserved = await this.reserve().finally(() => this.counters.waiting--);
    } catch (error) {
      this.ended = true;
      throw error;
    }
    this.counters.transactions++;
  }

  async begin(statement: string): Promise<void> {
    await this.hold();
    try {
      await this.executeQuery(CompiledQuery.raw(statement));
    } catch (error) {
      this.release();
      throw error;
    }
  }

  /** A connection of its own, or PoolExhaustedError after reserveTimeoutMs; one that arrives later goes straight back. */
  private reserve(): Promise<ReservedSql> {
    const ms = this.options.reserveTimeoutMs;
    const reservation = this.options.reserveFrom.reserve();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reservation.then((late) => late.release(), () => undefined);
        reject(new PoolExhaustedError(ms));
      }, ms);
    });
    return Promise.race([reservation, timeout]).finally(() => clearTimeout(timer));
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.ended || this.lost) throw new Error('This database connection has been released or lost; the query was not sent.');
    const target = this.reserved ?? (isRead(compiled) ? this.sql : this.options.reserveFrom);
    const parameters = compiled.parameters as unknown[];
    this.counters.inFlight++;
    try {
      const result = await target.unsafe(compiled.sql, parameters as never[], { prepare: this.prepareText(compiled.sql, parameters.length) });
      const command = result.command as string;
      if (command === 'COMMIT' || command === 'ROLLBACK') return { rows: [{ command } as R] };
      return {
        rows: result as unknown as R[],
        numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(result.count) : undefined,
      };
    } catch (error) {
      if (this.reserved && LOST.has((error as { code?: string }).code ?? '')) this.lost = true;
      // postgres.js errors carry the query's own stack only; add the caller's, as Kysely's own drivers do.
      throw extendStack(error, new Error());
    } finally {
      this.counters.inFlight--;
    }
  }

  /** After a ROLLBACK that failed on a live connection the session may still be inside the transaction: it is not handed back. */
  discard(): void {
    this.discarded = true;
    this.lost = true;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported by this driver.');
  }

  release(): void {
    this.ended = true;
    if (!this.reserved) return;
    this.counters.transactions--;
    // A lost connection's handle is already dead (release is a no-op, patches/postgres+3.4.9.patch). A discarded one is
    // kept out of the pool: one connection fewer until the process restarts, rather than a session stuck in a transaction.
    if (!this.discarded) this.reserved.release();
    this.reserved = undefined;
  }
}

/**
 * A statement outside a transaction that only reads: it goes to the pipelined
 * connections. Anything that may write (INSERT, UPDATE, DELETE, and raw SQL
 * not starting with SELECT, such as a WITH that inserts) goes to the
 * transaction pool's connections, pipelined there: a write's commit waits for
 * its WAL flush, and reads queued behind it on the same socket would wait too.
 */
function isRead(compiled: CompiledQuery): boolean {
  const kind = compiled.query.kind;
  if (kind === 'SelectQueryNode') return true;
  return kind === 'RawNode' && /^\s*select\b/i.test(compiled.sql);
}

function extendStack(error: unknown, caller: Error): unknown {
  if (error instanceof Error && caller.stack) {
    const frames = caller.stack.slice(caller.stack.indexOf('\n') + 1);
    error.stack = `${error.stack ?? String(error)}\n${frames}`;
  }
  return error;
}
