import { sql, type Kysely } from 'kysely';

/** Policies with their priced terms, status history, and the commissions they earn. */
const statements = [
  `CREATE SEQUENCE policy_number_seq MAXVALUE 99999999`,
  `CREATE TABLE policies (
    id uuid PRIMARY KEY,
    policy_number text UNIQUE,
    product_id uuid NOT NULL REFERENCES products(id),
    provider_id uuid NOT NULL REFERENCES providers(id),
    customer_id uuid NOT NULL REFERENCES customers(id),
    agent_id uuid NOT NULL REFERENCES agents(id),
    created_by uuid NOT NULL REFERENCES users(id),
    status text NOT NULL CHECK (status IN ('draft','submitted','approved','rejected','active','lapsed','surrendered','matured','cancelled','terminated')),
    sum_assured_paise bigint NOT NULL CHECK (sum_assured_paise > 0),
    term_years integer NOT NULL CHECK (term_years > 0),
    premium_mode text NOT NULL CHECK (premium_mode IN ('annual','half_yearly','quarterly','monthly')),
    age_at_entry integer NOT NULL,
    base_annual_paise bigint NOT NULL,
    modal_factor numeric(8,4) NOT NULL,
    installment_paise bigint NOT NULL,
    tax_rate_bp integer NOT NULL,
    tax_paise bigint NOT NULL,
    total_installment_paise bigint NOT NULL,
    annualized_total_paise bigint NOT NULL,
    nominee jsonb,
    start_date date,
    maturity_date date,
    issued_at timestamptz,
    next_due_date date,
    grace_end_date date,
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
  )`,
  `CREATE INDEX policies_provider_idx ON policies (provider_id, status, created_at, id)`,
  `CREATE INDEX policies_agent_idx ON policies (agent_id, status, created_at, id)`,
  `CREATE INDEX policies_customer_idx ON policies (customer_id, created_at, id)`,
  `CREATE INDEX policies_product_idx ON policies (product_id, created_at, id)`,
  `CREATE INDEX policies_status_created_idx ON policies (status, created_at, id)`,
  `CREATE INDEX policies_created_idx ON policies (created_at, id)`,

  `CREATE TABLE policy_status_history (
    id uuid PRIMARY KEY,
    policy_id uuid NOT NULL REFERENCES policies(id),
    from_status text,
    to_status text NOT NULL,
    reason text,
    actor_id uuid REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX policy_status_history_policy_idx ON policy_status_history (policy_id, created_at)`,

  `CREATE TABLE commissions (
    id uuid PRIMARY KEY,
    policy_id uuid NOT NULL REFERENCES policies(id),
    agent_id uuid NOT NULL REFERENCES agents(id),
    kind text NOT NULL CHECK (kind IN ('first_year','renewal','override')),
    policy_year integer NOT NULL DEFAULT 1,
    basis_paise bigint NOT NULL,
    rate_bp integer NOT NULL,
    amount_paise bigint NOT NULL,
    status text NOT NULL DEFAULT 'earned' CHECK (status IN ('earned','paid','clawed_back')),
    earned_at timestamptz NOT NULL DEFAULT now(),
    clawed_back_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // A policy earns each kind of commission once per agent per policy year, even under retries.
  `CREATE UNIQUE INDEX commissions_once_key ON commissions (policy_id, agent_id, kind, policy_year)`,
  `CREATE INDEX commissions_agent_idx ON commissions (agent_id, created_at, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of ['DROP TABLE IF EXISTS commissions', 'DROP TABLE IF EXISTS policy_status_history', 'DROP TABLE IF EXISTS policies', 'DROP SEQUENCE IF EXISTS policy_number_seq']) {
    await sql.raw(s).execute(db);
  }
}
