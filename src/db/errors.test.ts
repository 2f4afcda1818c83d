import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/app.js';
import { createDatabase, type Database } from './database.js';
import { uniqueViolation } from './errors.js';

// On PGlite under npm test, on PostgreSQL through postgres.js in CI's second pass: the two name the constraint differently.
let fresh: Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
beforeAll(async () => {
  fresh = await createTestDatabase();
  database = createDatabase(fresh.url);
  await sql`CREATE TABLE codes (id int PRIMARY KEY, code text NOT NULL CONSTRAINT codes_code_key UNIQUE)`.execute(database.db);
  await sql`INSERT INTO codes VALUES (1, 'A')`.execute(database.db);
});
afterAll(async () => {
  await database.close();
  await fresh.drop();
});

const failure = (run: Promise<unknown>) => run.then(() => { throw new Error('expected the statement to fail'); }, (error: unknown) => error);

describe('uniqueViolation', () => {
  it('names the unique constraint a duplicate violated, whichever driver raised it', async () => {
    expect(uniqueViolation(await failure(sql`INSERT INTO codes VALUES (2, 'A')`.execute(database.db)))).toBe('codes_code_key');
    expect(uniqueViolation(await failure(sql`INSERT INTO codes VALUES (1, 'B')`.execute(database.db)))).toBe('codes_pkey');
  });

  it('is null for any other error', async () => {
    expect(uniqueViolation(await failure(sql`INSERT INTO codes VALUES (3, NULL)`.execute(database.db)))).toBeNull();
    expect(uniqueViolation(new Error('not from the database'))).toBeNull();
    expect(uniqueViolation(null)).toBeNull();
  });
});
