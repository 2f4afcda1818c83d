import { sql, type Kysely } from 'kysely';

/** Security events: what the intrusion detection saw, with a severity, for GET /security-events and alerting. */
const statements = [
  `CREATE TABLE security_events (
    id uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    kind text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('low','medium','high','critical')),
    user_id uuid,
    ip_address text,
    details jsonb
  )`,
  `CREATE INDEX security_events_time_idx ON security_events (occurred_at DESC, id DESC)`,
  `CREATE INDEX security_events_kind_idx ON security_events (kind, occurred_at DESC)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP TABLE IF EXISTS security_events').execute(db);
}
