import {
  AbortedTransactionError, CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  type DatabaseConnection, type Dialect, type Driver, type Kysely, type QueryCompiler, type QueryResult, type TransactionSettings,
} from 'kysely';
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
  const entry = createRequire(import.meta.url).resolve('postgres');
  const patched = ['index.js', 'connection.js'].every((file) => readFileSync(join(dirname(entry), file), 'utf8').includes('bima patch'));
  if (!patched) throw new Error('postgres.js is not patched (patches/postgres+3.4.9.patch): run `npx patch-package`, or npm install without --ignore-scripts.');
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
 * Statements: the first `maxPrepared` distinct SQL texts run as named prepared
 * statements (parsed and planned once per connection, then bound by name); any
 * text past that runs unnamed, so a generator of unbounded texts cannot grow
 * every connection's statement cache without end. Kysely's texts are bounded
 * in practice (values are always parameters), so all of ours are prepared.
 */
export interface PostgresJsConfig {
  sql: Sql;
  /** Named prepared statements; off behind a transaction-mode pooler. */
  prepare: boolean;
  maxPrepared?: number;
  /** How long a transaction waits for a connection of its own before it fails with POOL_EXHAUSTED (default 3000 ms). */
  reserveTimeoutMs?: number;
  /** Kept current for the metrics: queries sent and not yet answered, transactions holding a connection, transactions waiting for one. */
  counters?: Counters;
}

/** Thrown when a transaction found no connection in time: load to shed (503), not an outage. */
export class PoolExhaustedError extends Error {
  readonly code = 'POOL_EXHAUSTED';
  constructor(ms: number) {
    super(`No database connection became free within ${ms} ms.`);
    this.name = 'PoolExhaustedError';
  }
}

export class PostgresJsDialect implements Dialect {
  constructor(private readonly config: PostgresJsConfig) {}

  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    const { sql, prepare, maxPrepared = 1000, reserveTimeoutMs = 3000, counters = { inFlight: 0, transactions: 0, waiting: 0 } } = this.config;
    return new PostgresJsDriver(sql, prepare ? maxPrepared : 0, { reserveTimeoutMs, counters });
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
    return new PostgresJsConnection(this.sql, this.prepareText, this.options);
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
    // A connection that was lost took its transaction with it: the server has rolled it back.
    if ((connection as PostgresJsConnection).lost) return;
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.savepointCommand(connection, 'savepoint', name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.savepointCommand(connection, 'rollback to savepoint', name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.savepointCommand(connection, 'release savepoint', name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as PostgresJsConnection).release();
  }

  async destroy(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }

  /** Whether a text runs as a named prepared statement: yes for the first maxPrepared texts seen, and texts with parameters only. */
  private readonly prepareText = (text: string, parameters: number): boolean => {
    if (parameters === 0) return false;
    if (this.prepared.has(text)) return true;
    if (this.prepared.size >= this.maxPrepared) return false;
    this.prepared.add(text);
    return true;
  };

  private async savepointCommand(connection: DatabaseConnection, command: string, name: string, compile: QueryCompiler['compileQuery']) {
    void compile;
    // Savepoint names come from the application's own code (Kysely's savepoint API), quoted as identifiers all the same.
    await connection.executeQuery(CompiledQuery.raw(`${command} "${name.replaceAll('"', '""')}"`));
  }
}

interface Counters {
  inFlight: number;
  transactions: number;
  waiting: number;
}

interface ConnectionOptions {
  reserveTimeoutMs: number;
  counters: Counters;
}

/** postgres.js's codes for a connection that is gone (the server, or the network to it). */
const LOST = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

class PostgresJsConnection implements DatabaseConnection {
  private reserved: ReservedSql | undefined;
  /** Set once the transaction's connection is gone: nothing more is sent on it. */
  lost = false;

  constructor(private readonly sql: Sql, private readonly prepareText: (text: string, parameters: number) => boolean, private readonly options: ConnectionOptions) {}

  private get counters() {
    return this.options.counters;
  }

  async begin(statement: string): Promise<void> {
    this.counters.waiting++;
    try {
      this.reserved = await this.reserve().finally(() => this.counters.waiting--);
      this.counters.transactions++;
      await this.reserved.unsafe(statement);
    } catch (error) {
      if (LOST.has((error as { code?: string }).code ?? '')) this.lost = true;
      this.release();
      throw error;
    }
  }

  /** A connection of the transaction's own, or PoolExhaustedError after reserveTimeoutMs; one that arrives later goes straight back. */
  private reserve(): Promise<ReservedSql> {
    const ms = this.options.reserveTimeoutMs;
    const reservation = this.sql.reserve();
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
    const target = this.reserved ?? this.sql;
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

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported by this driver.');
  }

  release(): void {
    // (On a connection that was lost, release is a no-op: the pool has it back already, patches/postgres+3.4.9.patch.)
    if (this.reserved) this.counters.transactions--;
    this.reserved?.release();
    this.reserved = undefined;
  }
}

function extendStack(error: unknown, caller: Error): unknown {
  if (error instanceof Error && caller.stack) {
    const frames = caller.stack.slice(caller.stack.indexOf('\n') + 1);
    error.stack = `${error.stack ?? String(error)}\n${frames}`;
  }
  return error;
}
