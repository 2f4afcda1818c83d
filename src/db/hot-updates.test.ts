import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/app.js';
import { createDatabase, type Database } from './database.js';
import { migrateToLatest } from './migrate.js';

let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase(testDb.url);
  await migrateToLatest(database.db);
});
afterAll(async () => {
  await database.close();
  await testDb.drop();
});

const pageOf = (ctid: string) => ctid.slice(1, ctid.indexOf(','));

describe('room for in-place updates (migration 0008)', () => {
  it('leaves space on each page of users, sessions and refresh tokens', async () => {
    const { rows } = await sql<{ relname: string; reloptions: string[] }>`
      SELECT relname, reloptions FROM pg_class WHERE relname IN ('users', 'user_sessions', 'refresh_tokens') ORDER BY relname`.execute(database.db);
    expect(rows).toEqual(['refresh_tokens', 'user_sessions', 'users'].map((relname) => ({ relname, reloptions: ['fillfactor=85'] })));
  });

  it('keeps a user updated at sign-in on its page, even when the users were loaded in bulk', async () => {
    await sql`
      INSERT INTO users (id, phone_number, full_name, role, status, password_hash)
      SELECT gen_random_uuid(), '+9198' || lpad(n::text, 8, '0'), 'Bulk User ' || n, 'junior_agent', 'active', repeat('h', 97)
      FROM generate_series(1, 400) AS n`.execute(database.db);
    const before = await sql<{ id: string; ctid: string }>`SELECT id, ctid::text FROM users WHERE full_name LIKE 'Bulk User %'`.execute(database.db);
    expect(new Set(before.rows.map((row) => pageOf(row.ctid))).size).toBeGreaterThan(5);
    // What signing in changes; one statement per user, as sign-ins come.
    for (const { id } of before.rows) await sql`UPDATE users SET last_login_at = now() WHERE id = ${id}`.execute(database.db);
    const after = new Map((await sql<{ id: string; ctid: string }>`SELECT id, ctid::text FROM users WHERE full_name LIKE 'Bulk User %'`.execute(database.db)).rows.map((row) => [row.id, row.ctid]));
    const moved = before.rows.filter((row) => pageOf(after.get(row.id)!) !== pageOf(row.ctid));
    expect(moved).toEqual([]);
  });
});
