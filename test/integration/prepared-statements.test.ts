import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparingPool } from '../../src/db/prepared.js';
import { createTestDatabase } from '../helpers/app.js';

interface Db {
  things: { id: number; name: string };
}

let fresh: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
let db: Kysely<Db>;

beforeAll(async () => {
  fresh = await createTestDatabase();
  // One connection, so the session-local pg_prepared_statements view shows what the queries did.
  pool = new pg.Pool({ connectionString: fresh.url, max: 1 });
  db = new Kysely<Db>({ dialect: new PostgresDialect({ pool: preparingPool(pool, 3) }) });
  await sql`CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL)`.execute(db);
  await sql`INSERT INTO things VALUES (1, 'one'), (2, 'two')`.execute(db);
});
afterAll(async () => {
  await db.destroy();
  await fresh.drop();
});

const prepared = async () => (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`.execute(db)).rows.map((r) => r.statement);
const byId = (id: number) => db.selectFrom('things').selectAll().where('id', '=', id).executeTakeFirst();

describe('prepared statements on PostgreSQL (preparingPool)', () => {
  it('prepares a parameterised query once per connection and reuses it', async () => {
    expect(await byId(1)).toEqual({ id: 1, name: 'one' });
    expect(await byId(2)).toEqual({ id: 2, name: 'two' });
    const mine = (await prepared()).filter((s) => s.includes('from "things"'));
    expect(mine).toEqual(['select * from "things" where "id" = $1']);
  });

  it('statements without parameters (transaction control, DDL) are never prepared', async () => {
    await db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx);
    });
    expect((await prepared()).some((s) => /begin|commit|select 1/i.test(s))).toBe(false);
  });

  it('a column added under a prepared select * is survived: retried at once outside a transaction', async () => {
    await byId(1);
    await sql`ALTER TABLE things ADD COLUMN note text`.execute(db);
    expect(await byId(1)).toEqual({ id: 1, name: 'one', note: null });
  });

  it('inside a transaction the first run fails (the transaction is the caller\'s), and the next one is prepared afresh', async () => {
    await byId(2);
    await sql`ALTER TABLE things ADD COLUMN extra int`.execute(db);
    const inTransaction = () => db.transaction().execute((trx) => trx.selectFrom('things').selectAll().where('id', '=', 2).executeTakeFirst());
    await expect(inTransaction()).rejects.toMatchObject({ code: '0A000' });
    expect(await inTransaction()).toEqual({ id: 2, name: 'two', note: null, extra: null });
  });

  it('past the cap, new texts run unnamed', async () => {
    const count = async () => (await prepared()).filter((s) => s.includes('"things"')).length;
    const before = await count();
    // One text is named so far (select by id); the cap of 3 leaves room for two more of these four.
    for (const limit of [1, 2, 3]) await db.selectFrom('things').select('id').where('id', '>', 0).limit(limit).execute();
    await db.selectFrom('things').select('name').where('name', '=', 'x').execute();
    await db.selectFrom('things').select('name').where('name', '<>', 'x').execute();
    expect(await db.selectFrom('things').select('name').where('name', 'like', 'o%').execute()).toEqual([{ name: 'one' }]);
    expect((await count()) - before).toBe(2);
  });
});
