import { createServer, type Socket } from 'node:net';
import { Kysely, sql } from 'kysely';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/database.js';
import { pinningEnabled, PostgresJsDialect, withPinnedConnections } from '../../src/db/postgres-js.js';
import { createTestDatabase } from '../helpers/app.js';
import { CuttableProxy } from './proxy.js';

interface Db {
  things: { id: number; name: string; born: string | null; at: Date | null; doc: unknown; tags: string[] | null };
}

let fresh: Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let db: Kysely<Db>;

beforeAll(async () => {
  fresh = await createTestDatabase();
  // Three connections for transactions, one for pipelined queries.
  database = createDatabase(fresh.url, { poolMax: 4, pipelineConnections: 1 });
  db = database.db as unknown as Kysely<Db>;
  await sql`CREATE TABLE things (id int8 PRIMARY KEY, name text NOT NULL, born date, at timestamptz, doc jsonb, tags text[])`.execute(db);
});
afterAll(async () => {
  await database.close();
  await fresh.drop();
});

const prepared = async (trx: Kysely<Db>) =>
  (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(trx)).rows.map((r) => r.statement);

describe('the postgres.js driver under Kysely', () => {
  it('reads and writes our types as the pg driver did: int8 as numbers, dates as strings, instants as Dates, jsonb whether given as text or as a value, text[] as arrays', async () => {
    await db.insertInto('things').values([
      { id: 1, name: 'one', born: '1990-02-28', at: new Date('2026-11-25T10:00:00.123Z'), doc: JSON.stringify({ a: [1, 'x'] }), tags: ['a', 'b,c', 'd"e'] },
      { id: 2, name: 'two', born: null, at: null, doc: { b: true } as never, tags: [] },
    ]).execute();
    const rows = await db.selectFrom('things').selectAll().orderBy('id').execute();
    expect(rows).toEqual([
      { id: 1, name: 'one', born: '1990-02-28', at: new Date('2026-11-25T10:00:00.123Z'), doc: { a: [1, 'x'] }, tags: ['a', 'b,c', 'd"e'] },
      { id: 2, name: 'two', born: null, at: null, doc: { b: true }, tags: [] },
    ]);
    const ids = await db.selectFrom('things').select('id').where(sql<boolean>`id = ANY(${[1, 2]}::int8[])`).orderBy('id').execute();
    expect(ids).toEqual([{ id: 1 }, { id: 2 }]);
    const odd = await sql<{ a: unknown; b: unknown }>`SELECT 'infinity'::timestamptz AS a, '2026-11-25 15:30:00.5+05:30'::timestamptz AS b`.execute(db);
    expect(odd.rows[0]).toEqual({ a: Infinity, b: new Date('2026-11-25T10:00:00.500Z') });
    // Booleans both ways, and an undefined parameter is NULL as with pg.
    const flags = await sql<{ t: boolean; f: boolean; u: string | null }>`SELECT ${true}::bool AS t, ${false}::bool AS f, ${undefined}::text AS u`.execute(db);
    expect(flags.rows[0]).toEqual({ t: true, f: false, u: null });
  });

  it('reports affected rows for writes', async () => {
    const result = await db.updateTable('things').set({ name: 'renamed' }).where('id', 'in', [1, 2, 99]).executeTakeFirst();
    expect(result.numUpdatedRows).toBe(2n);
  });

  it('a transaction runs on one connection: its writes are invisible outside until commit, and all undone on rollback', async () => {
    const outside = async () => (await db.selectFrom('things').select('id').where('id', '>=', 10).execute()).map((r) => r.id);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('things').values({ id: 10, name: 'ten', born: null, at: null, doc: null, tags: null }).execute();
      expect(await trx.selectFrom('things').select('id').where('id', '=', 10).execute()).toHaveLength(1);
      expect(await outside()).toEqual([]);
    });
    expect(await outside()).toEqual([10]);
    await expect(db.transaction().execute(async (trx) => {
      await trx.insertInto('things').values({ id: 11, name: 'eleven', born: null, at: null, doc: null, tags: null }).execute();
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    expect(await outside()).toEqual([10]);
  });

  it('a commit after an error the caller swallowed fails: PostgreSQL rolled the transaction back', async () => {
    await expect(db.transaction().execute(async (trx) => {
      await trx.insertInto('things').values({ id: 12, name: 'twelve', born: null, at: null, doc: null, tags: null }).execute();
      await sql`SELECT 1 / 0`.execute(trx).catch(() => undefined);
    })).rejects.toThrow(/rolled back/i);
    expect(await db.selectFrom('things').select('id').where('id', '=', 12).execute()).toEqual([]);
  });

  it('savepoints roll back part of a transaction', async () => {
    const trx = await db.startTransaction().execute();
    await trx.insertInto('things').values({ id: 13, name: 'kept', born: null, at: null, doc: null, tags: null }).execute();
    const inner = await trx.savepoint('inner').execute();
    await inner.insertInto('things').values({ id: 14, name: 'undone', born: null, at: null, doc: null, tags: null }).execute();
    await inner.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    expect((await db.selectFrom('things').select('id').where('id', 'in', [13, 14]).execute()).map((r) => r.id)).toEqual([13]);
  });

  it('concurrent queries outside transactions share the connections (pipelined), and many transactions at once each get their own', async () => {
    const reads = await Promise.all(Array.from({ length: 200 }, (_, i) => db.selectFrom('things').select('id').where('id', '=', 1 + (i % 2)).executeTakeFirstOrThrow()));
    expect(reads.map((r) => r.id)).toEqual(Array.from({ length: 200 }, (_, i) => 1 + (i % 2)));
    const backends = await Promise.all(Array.from({ length: 9 }, () => db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
      await sql`SELECT pg_sleep(0.05)`.execute(trx);
      const again = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
      expect(again.rows[0]!.pid).toBe(rows[0]!.pid);
      return rows[0]!.pid;
    })));
    // Nine transactions over three transaction connections: each held one connection throughout, three at a time.
    expect(new Set(backends).size).toBeLessThanOrEqual(3);
  });

  it('pipelined reads have connections of their own: transactions holding every other connection do not hold them up, and writes go to the transaction pool', async () => {
    const split = createDatabase(fresh.url, { poolMax: 3, pipelineConnections: 1 });
    const pid = sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`;
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      const holding: number[] = [];
      const transactions = Array.from({ length: 2 }, () => split.db.transaction().execute(async (trx) => {
        holding.push((await pid.execute(trx)).rows[0]!.pid);
        await held;
      }));
      while (holding.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(split.poolStats().transactions).toBe(2);
      // Both transaction connections are taken; queries outside a transaction still run, all on the one pipelined connection.
      const outside = await Promise.all(Array.from({ length: 20 }, () => pid.execute(split.db)));
      const pipelined = new Set(outside.map((r) => r.rows[0]!.pid));
      expect(pipelined.size).toBe(1);
      expect(holding).not.toContain([...pipelined][0]);
      release();
      await Promise.all(transactions);
      // Writes outside a transaction go to the transaction pool (a commit's WAL flush would hold up the reads queued behind it).
      const readPid = [...pipelined][0];
      const inserted = await (split.db as unknown as Kysely<Db>).insertInto('things')
        .values({ id: 500, name: 'routed', born: null, at: null, doc: null, tags: null }).returning(sql<number>`pg_backend_pid()`.as('pid')).executeTakeFirstOrThrow();
      const withInsert = await sql<{ pid: number }>`WITH gone AS (DELETE FROM things WHERE id = 500 RETURNING id) SELECT pg_backend_pid() AS pid FROM gone`.execute(split.db);
      expect(holding).toContain(inserted.pid);
      expect(holding).toContain(withInsert.rows[0]!.pid);
      expect((await sql<{ pid: number }>`  select pg_backend_pid() AS pid`.execute(split.db)).rows[0]!.pid).toBe(readPid);
    } finally {
      await split.close();
    }
  });

  it('a parameter that cannot be serialised fails its own query only: the queries pipelined around it on the same connection get their own answers', async () => {
    const sqlClient = postgres(fresh.url, { max: 1, onnotice: () => undefined });
    const one = new Kysely<Db>({ dialect: new PostgresJsDialect({ sql: sqlClient, prepare: true }) });
    const at = (value: Date) => sql<{ at: Date }>`SELECT ${value}::timestamptz AS at`.execute(one);
    try {
      await at(new Date('2026-01-01T00:00:00Z')); // prepared on the one connection: the next run builds its message at once
      const slow = sql<{ a: number }>`SELECT 1 AS a, pg_sleep(0.1)`.execute(one);
      await new Promise((resolve) => setImmediate(resolve));
      const bad = at(new Date(Number.NaN));
      const after = sql<{ c: number }>`SELECT 3 AS c`.execute(one);
      await expect(bad).rejects.toThrow(RangeError);
      expect((await slow).rows[0]!.a).toBe(1);
      expect((await after).rows[0]).toEqual({ c: 3 });
      expect((await at(new Date('2026-01-02T00:00:00Z'))).rows[0]!.at).toEqual(new Date('2026-01-02T00:00:00Z'));
    } finally {
      await one.destroy();
    }
  });

  it('inside withPinnedConnections, db.connection() keeps one session for all its queries, so a session lock is released by the session that took it', async () => {
    const unlocked = await withPinnedConnections(() => db.connection().execute(async (session) => {
      const first = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_advisory_lock(4242)`.execute(session);
      // Other work meanwhile keeps the pool's connections busy.
      await Promise.all(Array.from({ length: 20 }, () => sql`SELECT pg_sleep(0.01)`.execute(db)));
      const second = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(session);
      expect(second.rows[0]!.pid).toBe(first.rows[0]!.pid);
      return (await sql<{ ok: boolean }>`SELECT pg_advisory_unlock(4242) AS ok`.execute(session)).rows[0]!.ok;
    }));
    expect(unlocked).toBe(true);
  });

  it('withPinnedConnections holds its async context only while a pinned run is in progress (Node 20 hooks every promise while it is on)', async () => {
    expect(pinningEnabled()).toBe(false);
    let release!: () => void;
    const outer = withPinnedConnections(() => new Promise<void>((resolve) => { release = resolve; }));
    const inner = await withPinnedConnections(async () => {
      expect(pinningEnabled()).toBe(true);
      return (await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows[0]!.one;
    });
    expect(inner).toBe(1);
    expect(pinningEnabled()).toBe(true); // the outer run is still going
    release();
    await outer;
    expect(pinningEnabled()).toBe(false);
  });

  it('prepares parameterised statements once per connection, up to the cap; past it texts run unnamed', async () => {
    const sqlClient = postgres(fresh.url, { max: 1, onnotice: () => undefined });
    const capped = new Kysely<Db>({ dialect: new PostgresJsDialect({ sql: sqlClient, prepare: true, maxPrepared: 2 }) });
    try {
      for (const id of [1, 2, 1]) await capped.selectFrom('things').select('name').where('id', '=', id).execute();
      await capped.selectFrom('things').select('id').where('name', '=', 'x').execute();
      await capped.selectFrom('things').select('born').where('name', '<>', 'x').execute();
      const mine = (await prepared(capped)).filter((s) => s.includes('"things"'));
      expect(mine.sort()).toEqual(['select "id" from "things" where "name" = $1', 'select "name" from "things" where "id" = $1']);
    } finally {
      await capped.destroy();
    }
  });

  it('a transaction that finds no free connection in time fails with POOL_EXHAUSTED, and the connection that frees later is not lost', async () => {
    const sqlClient = postgres(fresh.url, { max: 1, onnotice: () => undefined });
    const counters = { inFlight: 0, transactions: 0, waiting: 0 };
    const small = new Kysely<Db>({ dialect: new PostgresJsDialect({ sql: sqlClient, prepare: true, reserveTimeoutMs: 100, counters }) });
    try {
      let release!: () => void;
      const holding = small.transaction().execute(async (trx) => {
        await sql`SELECT 1`.execute(trx);
        await new Promise<void>((resolve) => (release = resolve));
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = small.transaction().execute(async () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(counters).toEqual({ inFlight: 0, transactions: 1, waiting: 1 });
      await expect(refused).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
      expect(counters).toEqual({ inFlight: 0, transactions: 1, waiting: 0 });
      release();
      await holding;
      // The timed-out reservation, granted late, went back: the pool's one connection still serves transactions.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await small.transaction().execute(async (trx) => (await sql<{ one: number }>`SELECT 1 AS one`.execute(trx)).rows[0]!.one)).toBe(1);
      expect(counters).toEqual({ inFlight: 0, transactions: 0, waiting: 0 });
    } finally {
      await small.destroy();
    }
  });
});

describe('the patched postgres.js when the server goes away (patches/postgres+3.4.9.patch)', () => {
  it('a transaction whose connection is terminated fails with a connection error; nothing it sends afterwards runs anywhere, and the pool serves on', async () => {
    const killer = postgres(fresh.url, { max: 1, onnotice: () => undefined });
    try {
      const outcome = db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        await killer`SELECT pg_terminate_backend(${rows[0]!.pid})`;
        await new Promise((resolve) => setTimeout(resolve, 100));
        // Unpatched, this write crashed the process from a timer; or, once the pool had reopened the connection, ran outside any transaction.
        await trx.insertInto('things').values({ id: 20, name: 'orphan', born: null, at: null, doc: null, tags: null }).execute();
      });
      await expect(outcome).rejects.toMatchObject({ code: expect.stringMatching(/^CONNECTION_(CLOSED|DESTROYED)$|^57P01$/) });
      expect(await db.selectFrom('things').select('id').where('id', '=', 20).execute()).toEqual([]);
      const after = await Promise.all(Array.from({ length: 6 }, (_, i) => db.transaction().execute(async (trx) => (await sql<{ n: number }>`SELECT ${i}::int AS n`.execute(trx)).rows[0]!.n)));
      expect(after).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await killer.end();
    }
  });

  it('while the server is unreachable, transactions and queries fail fast with connection errors; once it is back, all connections serve again', async () => {
    const target = new URL(fresh.url);
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.open();
    const viaProxy = new URL(fresh.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const cut = createDatabase(viaProxy.toString(), { poolMax: 4, pipelineConnections: 1 });
    const cdb = cut.db as unknown as Kysely<Db>;
    const tx = () => cdb.transaction().execute(async (trx) => (await trx.selectFrom('things').select('id').where('id', '=', 1).executeTakeFirstOrThrow()).id);
    const wave = () => Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? tx() : cdb.selectFrom('things').select('id').where('id', '=', 1).executeTakeFirstOrThrow().then((r) => r.id)).then(
      (id) => ({ ok: id }),
      (error: { code?: string }) => ({ error: error.code }),
    )));
    try {
      expect(await wave()).toEqual(Array(8).fill({ ok: 1 }));
      const inFlight = wave();
      await proxy.cut();
      await inFlight;
      const during = await wave();
      expect(during.every((o) => 'error' in o && /^(ECONNREFUSED|CONNECTION_CLOSED|CONNECTION_DESTROYED)$/.test(o.error ?? '')), JSON.stringify(during)).toBe(true);
      // A crowd fails together: a connection that cannot be opened fails every query waiting for one, not one per attempt
      // (unpatched, 300 waiters over 3 connections drained at one per backoff step, well past the test's timeout).
      const crowd = await Promise.all(Array.from({ length: 300 }, () => cdb.selectFrom('things').select('id').execute().then(() => 'ok', (error: { code?: string }) => error.code)));
      expect(crowd.every((code) => code === 'ECONNREFUSED' || code === 'CONNECTION_CLOSED'), JSON.stringify([...new Set(crowd)])).toBe(true);
      await proxy.open();
      let back: Array<{ ok?: number; error?: string }> = [];
      for (let i = 0; i < 40; i++) {
        back = await wave();
        if (back.every((o) => o.ok === 1)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(back).toEqual(Array(8).fill({ ok: 1 }));
      // Every transaction connection serves again (three transactions at once, each on its own): none was lost to a failed reservation.
      const distinct = async () => new Set(await Promise.all(Array.from({ length: 3 }, () => cdb.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid, pg_sleep(0.1)`.execute(trx);
        return rows[0]!.pid;
      })))).size;
      let connections = 0;
      for (let i = 0; i < 20 && connections < 3; i++) connections = await distinct();
      expect(connections).toBe(3);
    } finally {
      await cut.close();
      await proxy.cut().catch(() => undefined);
    }
  });

  it('a server that accepts and then closes during startup (a proxy with nothing behind it) fails the query instead of reconnecting for ever', async () => {
    const accepted = new Set<Socket>();
    const closer = createServer((socket) => {
      accepted.add(socket);
      socket.end();
    });
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
    const port = (closer.address() as { port: number }).port;
    const nowhere = createDatabase(`postgres://postgres@127.0.0.1:${port}/postgres`, { poolMax: 2 });
    try {
      const outcomes = await Promise.all([
        sql`SELECT 1`.execute(nowhere.db).then(() => 'ok', (error: { code?: string }) => error.code),
        nowhere.db.transaction().execute(async () => undefined).then(() => 'ok', (error: { code?: string }) => error.code),
      ]);
      expect(outcomes).toEqual(['CONNECTION_CLOSED', 'CONNECTION_CLOSED']);
    } finally {
      await nowhere.close();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => closer.close(resolve));
    }
  });
});
