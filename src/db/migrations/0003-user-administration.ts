import { sql, type Kysely } from 'kysely';

/** Preferences, and the indexes behind user search (name, phone, email, sort orders). */
const statements = [
  `CREATE TABLE user_preferences (
    user_id uuid PRIMARY KEY REFERENCES users(id),
    language text NOT NULL DEFAULT 'en',
    timezone text NOT NULL DEFAULT 'Asia/Kolkata',
    notifications jsonb NOT NULL DEFAULT '{"sms":true,"email":true,"push":true,"whatsapp":true}',
    quiet_hours jsonb,
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE INDEX users_phone_prefix_idx ON users (phone_number text_pattern_ops)`,
  `CREATE INDEX users_email_prefix_idx ON users (lower(email) text_pattern_ops) WHERE email IS NOT NULL`,
  `CREATE INDEX users_name_sort_idx ON users (lower(full_name), id)`,
  `CREATE INDEX users_status_created_idx ON users (status, created_at, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of ['DROP TABLE IF EXISTS user_preferences', 'DROP INDEX IF EXISTS users_phone_prefix_idx', 'DROP INDEX IF EXISTS users_email_prefix_idx',
    'DROP INDEX IF EXISTS users_name_sort_idx', 'DROP INDEX IF EXISTS users_status_created_idx']) await sql.raw(s).execute(db);
}
