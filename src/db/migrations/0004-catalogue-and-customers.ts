import { sql, type Kysely } from 'kysely';

/** Products with their rating rules, commission schedules, agent documents and customers. */
const statements = [
  `CREATE TABLE products (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers(id),
    code text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('term','endowment','health')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive')),
    min_entry_age integer NOT NULL,
    max_entry_age integer NOT NULL,
    max_maturity_age integer NOT NULL,
    min_sum_assured_paise bigint NOT NULL,
    max_sum_assured_paise bigint NOT NULL,
    min_term_years integer NOT NULL,
    max_term_years integer NOT NULL,
    premium_modes text[] NOT NULL,
    modal_factors jsonb,
    rate_table jsonb NOT NULL,
    tax_rate_bp integer CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    CHECK (min_entry_age <= max_entry_age),
    CHECK (min_sum_assured_paise <= max_sum_assured_paise),
    CHECK (min_term_years <= max_term_years)
  )`,
  `CREATE UNIQUE INDEX products_provider_code_key ON products (provider_id, code)`,
  `CREATE INDEX products_provider_idx ON products (provider_id, status, created_at, id)`,

  `CREATE TABLE commission_rules (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES providers(id),
    product_kind text CHECK (product_kind IN ('term','endowment','health')),
    first_year_bp integer NOT NULL CHECK (first_year_bp BETWEEN 0 AND 10000),
    renewal_bp integer NOT NULL CHECK (renewal_bp BETWEEN 0 AND 10000),
    override_bp integer CHECK (override_bp BETWEEN 0 AND 10000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid REFERENCES users(id),
    version integer NOT NULL DEFAULT 1
  )`,
  // One schedule per provider and product kind; NULL kind is the provider's default.
  `CREATE UNIQUE INDEX commission_rules_provider_kind_key ON commission_rules (provider_id, coalesce(product_kind, '*'))`,

  `CREATE TABLE agent_documents (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents(id),
    type text NOT NULL CHECK (type IN ('license','pan','aadhaar','photo','education','bank_proof')),
    content_type text NOT NULL CHECK (content_type IN ('application/pdf','image/jpeg','image/png')),
    size_bytes integer NOT NULL CHECK (size_bytes > 0 AND size_bytes <= 10485760),
    sha256 text NOT NULL,
    original_name text,
    aadhaar_masked text,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','verified','rejected')),
    review_notes text,
    reviewed_by uuid REFERENCES users(id),
    reviewed_at timestamptz,
    uploaded_by uuid NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX agent_documents_agent_idx ON agent_documents (agent_id, type, status)`,

  `CREATE TABLE customers (
    id uuid PRIMARY KEY,
    agent_id uuid NOT NULL REFERENCES agents(id),
    user_id uuid REFERENCES users(id),
    full_name text NOT NULL,
    date_of_birth date NOT NULL,
    gender text NOT NULL CHECK (gender IN ('female','male','other')),
    phone_number text NOT NULL,
    email text,
    pan text,
    address jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE INDEX customers_agent_idx ON customers (agent_id, created_at, id)`,
  `CREATE INDEX customers_phone_idx ON customers (phone_number)`,
  `CREATE INDEX customers_user_idx ON customers (user_id) WHERE user_id IS NOT NULL`,
  `CREATE INDEX customers_name_trgm_idx ON customers USING gin (full_name gin_trgm_ops)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['customers', 'agent_documents', 'commission_rules', 'products']) await sql.raw(`DROP TABLE IF EXISTS ${t}`).execute(db);
}
