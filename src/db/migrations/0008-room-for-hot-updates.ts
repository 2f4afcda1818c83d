import { sql, type Kysely } from 'kysely';

/**
 * Room on each page for the rows that change in place on every sign-in and
 * refresh: a user's last_login_at, a session's last_used_at, a refresh
 * token's used_at. None of these columns is indexed, so PostgreSQL can write
 * the new row version beside the old one (a HOT update, no index entries)
 * when the page has space; on pages filled to 100% (the default, and what a
 * bulk load leaves) it moved the row to another page and added an entry to
 * every index of the table: users has twelve. The setting applies to pages
 * written from now on; existing pages gain it as they are rewritten.
 */
const TABLES = ['users', 'user_sessions', 'refresh_tokens'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await sql.raw(`ALTER TABLE ${table} SET (fillfactor = 85)`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await sql.raw(`ALTER TABLE ${table} RESET (fillfactor)`).execute(db);
}
