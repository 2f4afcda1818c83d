import { sql, type Kysely } from 'kysely';

/** Regions (a tree), providers (insurers) and agents with their provider links. */
const statements = [
  `CREATE TABLE regions (
    id uuid PRIMARY KEY,
    code text NOT NULL,
    name text NOT NULL,
    parent_id uuid REFERENCES regions(id),
    path text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE UNIQUE INDEX regions_code_key ON regions (code)`,
  // Materialised path ('IN/MH/PUNE/') makes "this region and every sub-region" one prefix scan.
  `CREATE INDEX regions_path_idx ON regions (path text_pattern_ops)`,
  `CREATE INDEX regions_parent_idx ON regions (parent_id)`,

  `CREATE TABLE providers (
    id uuid PRIMARY KEY,
    code text NOT NULL,
    name text NOT NULL,
    type text NOT NULL CHECK (type IN ('life','health','general')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive','suspended')),
    status_reason text,
    irdai_registration_number text,
    contact_email text,
    contact_phone text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE UNIQUE INDEX providers_code_key ON providers (code)`,
  `CREATE INDEX providers_type_status_idx ON providers (type, status)`,
  `CREATE INDEX providers_name_trgm_idx ON providers USING gin (name gin_trgm_ops)`,
  `ALTER TABLE users ADD CONSTRAINT users_provider_fk FOREIGN KEY (provider_id) REFERENCES providers(id)`,
  `ALTER TABLE users ADD CONSTRAINT users_region_fk FOREIGN KEY (region_id) REFERENCES regions(id)`,

  `CREATE SEQUENCE agent_code_seq`,
  `CREATE TABLE agents (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL UNIQUE REFERENCES users(id),
    agent_code text UNIQUE,
    status text NOT NULL CHECK (status IN ('pending_approval','active','rejected','suspended','inactive')),
    status_reason text,
    license_number text NOT NULL,
    license_expiry date NOT NULL,
    pan text NOT NULL,
    region_id uuid REFERENCES regions(id),
    manager_agent_id uuid REFERENCES agents(id),
    approved_at timestamptz,
    approved_by uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE INDEX agents_region_idx ON agents (region_id, status)`,
  `CREATE INDEX agents_manager_idx ON agents (manager_agent_id)`,
  `CREATE INDEX agents_status_idx ON agents (status, created_at, id)`,

  `CREATE TABLE agent_providers (
    agent_id uuid NOT NULL REFERENCES agents(id),
    provider_id uuid NOT NULL REFERENCES providers(id),
    provider_type text NOT NULL CHECK (provider_type IN ('life','health','general')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, provider_id)
  )`,
  // IRDAI (2016): at most one insurer of each type per agent, enforced by the database itself.
  `CREATE UNIQUE INDEX agent_providers_one_per_type ON agent_providers (agent_id, provider_type)`,
  `CREATE INDEX agent_providers_provider_idx ON agent_providers (provider_id, agent_id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of ['DROP TABLE IF EXISTS agent_providers', 'DROP TABLE IF EXISTS agents', 'DROP SEQUENCE IF EXISTS agent_code_seq',
    'ALTER TABLE users DROP CONSTRAINT IF EXISTS users_provider_fk', 'ALTER TABLE users DROP CONSTRAINT IF EXISTS users_region_fk',
    'DROP TABLE IF EXISTS providers', 'DROP TABLE IF EXISTS regions']) {
    await sql.raw(s).execute(db);
  }
}
