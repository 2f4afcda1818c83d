import { sql, type Kysely } from 'kysely';

/**
 * Identity, sessions, one-time codes, sign-in throttling, feature flags,
 * the tamper-evident audit trail and idempotency records.
 * Statements run one at a time: PGlite's extended protocol takes one per query.
 */
const statements = [
  `CREATE EXTENSION IF NOT EXISTS pg_trgm`,
  `CREATE TABLE users (
    id uuid PRIMARY KEY,
    phone_number text NOT NULL,
    email text,
    full_name text NOT NULL,
    password_hash text,
    role text NOT NULL CHECK (role IN ('super_admin','provider_admin','regional_manager','senior_agent','junior_agent','policyholder')),
    status text NOT NULL CHECK (status IN ('pending_verification','active','inactive','suspended','deleted')),
    status_reason text,
    provider_id uuid,
    region_id uuid,
    phone_verified_at timestamptz,
    last_login_at timestamptz,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    account_locked_until timestamptz,
    password_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE UNIQUE INDEX users_phone_number_key ON users (phone_number)`,
  `CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL`,
  `CREATE INDEX users_role_status_idx ON users (role, status)`,
  `CREATE INDEX users_provider_idx ON users (provider_id) WHERE provider_id IS NOT NULL`,
  `CREATE INDEX users_region_idx ON users (region_id) WHERE region_id IS NOT NULL`,
  `CREATE INDEX users_created_idx ON users (created_at, id)`,
  `CREATE INDEX users_full_name_trgm_idx ON users USING gin (full_name gin_trgm_ops)`,

  `CREATE TABLE user_sessions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text,
    ip_address text,
    user_agent text
  )`,
  `CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, created_at DESC)`,

  `CREATE TABLE refresh_tokens (
    token_hash text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES user_sessions(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
  )`,
  `CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`,

  `CREATE TABLE otp_codes (
    id uuid PRIMARY KEY,
    phone_number text NOT NULL,
    purpose text NOT NULL CHECK (purpose IN ('register','login','reset_password')),
    code_hmac text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    consumed_at timestamptz
  )`,
  `CREATE INDEX otp_codes_phone_idx ON otp_codes (phone_number, purpose, created_at DESC)`,
  `CREATE INDEX otp_codes_phone_created_idx ON otp_codes (phone_number, created_at)`,

  `CREATE TABLE password_reset_tokens (
    token_hash text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
  )`,

  `CREATE TABLE login_throttles (
    identifier text PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,

  `CREATE TABLE feature_flags (
    key text PRIMARY KEY,
    enabled boolean NOT NULL DEFAULT false,
    roles text[],
    percentage integer CHECK (percentage BETWEEN 0 AND 100),
    description text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid
  )`,

  `CREATE TABLE audit_events (
    seq bigint PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    occurred_at timestamptz NOT NULL,
    actor_id uuid,
    actor_role text,
    action text NOT NULL,
    entity_type text NOT NULL,
    entity_id text,
    changes jsonb,
    request_id text,
    ip_address text,
    user_agent text,
    prev_hash text NOT NULL,
    hash text NOT NULL
  )`,
  `CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, seq)`,
  `CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, seq)`,
  `CREATE INDEX audit_events_action_idx ON audit_events (action, seq)`,
  `CREATE INDEX audit_events_time_idx ON audit_events (occurred_at)`,
  // The head row serialises appends: each writer locks it, so the chain has one order.
  `CREATE TABLE audit_chain_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq bigint NOT NULL,
    hash text NOT NULL
  )`,
  `INSERT INTO audit_chain_head (id, seq, hash) VALUES (true, 0, repeat('0', 64))`,
  `CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     RAISE EXCEPTION 'audit_events is append-only';
   END $$`,
  `CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
   FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`,

  `CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL,
    key text NOT NULL,
    method text NOT NULL,
    path text NOT NULL,
    request_hash text NOT NULL,
    status_code integer,
    response_body jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
  )`,
  `CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['idempotency_keys', 'audit_chain_head', 'audit_events', 'feature_flags', 'login_throttles',
    'password_reset_tokens', 'otp_codes', 'refresh_tokens', 'user_sessions', 'users']) {
    await sql.raw(`DROP TABLE IF EXISTS ${table} CASCADE`).execute(db);
  }
  await sql.raw('DROP FUNCTION IF EXISTS audit_events_append_only').execute(db);
}
