import pg from 'pg';
import { historyStatement, policyStatement } from './seed-policies.js';

/**
 * Bulk seeding in plain SQL (generate_series INSERT … SELECT), so 100k users
 * and 200k policies take seconds, not the minutes row-by-row inserts would.
 * Every row is a function of its index: user i has phone +9170<i, 8 digits>,
 * agent j is user j, customer c belongs to agent ((c-1) mod A)+1 and policy i
 * to customer ((i-1) mod C)+1, so the bench can name any row without a lookup.
 */
export interface SeedSizes {
  users: number;
  agents: number;
  customers: number;
  policies: number;
}

/** User index layout: agents first, then the admins, then policyholders. */
export function layout(sizes: SeedSizes) {
  const seniors = Math.max(1, Math.floor(sizes.agents / 10));
  const superAdmin = sizes.agents + 1;
  const firstPolicyholder = sizes.agents + 12;
  return { seniors, superAdmin, firstPolicyholder };
}

export const phoneOf = (userIndex: number) => `+9170${String(userIndex).padStart(8, '0')}`;
/** Agents 7, 57, 107… are suspended; every other agent may sell. */
export const isActiveAgent = (agentIndex: number) => agentIndex % 50 !== 7;
/** Policyholders 3, 43, 83… never verified their phone; 5, 102… are inactive. */
export const isActivePolicyholder = (userIndex: number) => userIndex % 40 !== 3 && userIndex % 97 !== 5;

export const PROVIDERS = [
  { code: 'BIMALIFE', name: 'Bima Life Insurance', type: 'life' },
  { code: 'SURAKSHA', name: 'Suraksha Life Assurance', type: 'life' },
  { code: 'AROGYA', name: 'Arogya Health Insurance', type: 'health' },
  { code: 'SWASTHYA', name: 'Swasthya Health Insurance', type: 'health' },
  { code: 'RAKSHAGEN', name: 'Raksha General Insurance', type: 'general' },
] as const;

/** Two products per provider: life providers a term and an endowment plan, the others two health plans. */
export const PRODUCT_KINDS = ['term', 'endowment', 'term', 'endowment', 'health', 'health', 'health', 'health', 'health', 'health'] as const;

const RULES = {
  term: { min: 18, max: 60, maturity: 75, sa: [10_000_000, 10_000_000_000], terms: [5, 40], modes: ['annual', 'half_yearly', 'quarterly', 'monthly'],
    rates: [[18, 30, 1250], [31, 45, 2400], [46, 60, 5100]] },
  endowment: { min: 18, max: 55, maturity: 75, sa: [10_000_000, 1_000_000_000], terms: [10, 30], modes: ['annual', 'half_yearly', 'quarterly', 'monthly'],
    rates: [[18, 35, 4800], [36, 55, 5600]] },
  health: { min: 18, max: 65, maturity: 99, sa: [50_000_000, 500_000_000], terms: [1, 3], modes: ['annual', 'monthly'],
    rates: [[18, 35, 1800], [36, 50, 3200], [51, 65, 6500]] },
} as const;

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Session-local helpers; the sizes and the reference instant are baked in as literals. */
export function helperFunctions(sizes: SeedSizes, t0: string): string[] {
  const { users: n, customers: c, policies: p } = sizes;
  const fn = (name: string, args: string, ret: string, body: string, volatility = 'IMMUTABLE') =>
    `CREATE FUNCTION pg_temp.${name}(${args}) RETURNS ${ret} LANGUAGE sql ${volatility} AS $$ ${body} $$`;
  return [
    // A UUIDv7 for instant ts (time-ordered like the app's newId): v4 randomness behind a millisecond prefix.
    fn('v7', 'ts timestamptz', 'uuid', `SELECT (lpad(to_hex(floor(extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7'
      || substr(replace(gen_random_uuid()::text, '-', ''), 14))::uuid`, 'VOLATILE'),
    fn('uts', 'i bigint', 'timestamptz', `SELECT ${sqlText(t0)}::timestamptz - interval '3 years' * ((${n} - i)::float8 / ${n}) - interval '30 days'`),
    fn('cts', 'k bigint', 'timestamptz', `SELECT ${sqlText(t0)}::timestamptz - interval '2 years' - interval '40 days' + interval '31 days' * (k::float8 / ${c})`),
    fn('pts', 'i bigint', 'timestamptz', `SELECT ${sqlText(t0)}::timestamptz - interval '2 years' * ((${p} - i)::float8 / ${p}) - interval '8 days'`),
    fn('person', 'i bigint', 'text', `SELECT (ARRAY['Aarav','Aditi','Arjun','Asha','Deepak','Divya','Farhan','Gauri','Harish','Isha','Karan','Kavya','Lakshmi',
      'Manoj','Meera','Naveen','Neha','Pooja','Rahul','Ravi','Sanjay','Sneha','Suresh','Sunita','Vikram','Zoya'])[1 + (i % 26)::int] || ' ' ||
      (ARRAY['Agarwal','Banerjee','Chatterjee','Das','Gupta','Iyer','Joshi','Kapoor','Khan','Kumar','Menon','Mishra','Nair','Patel','Rao','Reddy',
      'Shah','Sharma','Singh','Verma'])[1 + ((i / 26) % 20)::int]`),
  ];
}

/**
 * Index → id maps, each id computed once: the inserts below join on them
 * (a function call per reference would cost minutes at 200k rows).
 */
export function mappingTables(sizes: SeedSizes, t0: string): string[] {
  const { users: n, agents: a, customers: c } = sizes;
  const map = (name: string, key: string, select: string) => [
    `CREATE TEMP TABLE ${name} AS ${select}`, `ALTER TABLE ${name} ADD PRIMARY KEY (${key})`, `ANALYZE ${name}`];
  return [
    ...map('m_user', 'i', `SELECT i, pg_temp.v7(ts) AS id, ts FROM (SELECT i, pg_temp.uts(i) AS ts FROM generate_series(1, ${n}) i) s`),
    ...map('m_agent', 'j', `SELECT u.i AS j, pg_temp.v7(u.ts + interval '2 days') AS id, u.id AS user_id, u.ts + interval '2 days' AS ts FROM m_user u WHERE u.i <= ${a}`),
    ...map('m_customer', 'k', `SELECT k, pg_temp.v7(ts) AS id, ts FROM (SELECT k, pg_temp.cts(k) AS ts FROM generate_series(1, ${c}) k) s`),
    ...map('m_provider', 'k', `SELECT k, pg_temp.v7(${sqlText(t0)}::timestamptz - interval '5 years') AS id FROM generate_series(1, ${PROVIDERS.length}) k`),
    ...map('m_product', 'k', `SELECT k, pg_temp.v7(${sqlText(t0)}::timestamptz - interval '4 years') AS id FROM generate_series(1, ${PRODUCT_KINDS.length}) k`),
    ...map('m_region', 'k', `SELECT k, pg_temp.v7(${sqlText(t0)}::timestamptz - interval '6 years') AS id FROM generate_series(1, 6) k`),
  ];
}

export function directoryStatements(sizes: SeedSizes, t0: string): string[] {
  const { agents: a } = sizes;
  const { seniors: s, superAdmin } = layout(sizes);
  const at = (ago: string) => `${sqlText(t0)}::timestamptz - interval '${ago}'`;
  const regions = `(VALUES (1, 'IN', 'India', NULL::int, 'IN/'), (2, 'MH', 'Maharashtra', 1, 'IN/MH/'), (3, 'KA', 'Karnataka', 1, 'IN/KA/'),
    (4, 'DL', 'Delhi', 1, 'IN/DL/'), (5, 'TN', 'Tamil Nadu', 1, 'IN/TN/'), (6, 'WB', 'West Bengal', 1, 'IN/WB/')) v(k, code, name, parent, path)`;
  const providers = PROVIDERS.map((v, i) => `(${i + 1}, ${sqlText(v.code)}, ${sqlText(v.name)}, ${sqlText(v.type)})`).join(', ');
  const products = PRODUCT_KINDS.map((kind, i) => {
    const r = RULES[kind];
    const rates = JSON.stringify(r.rates.map(([min, max, rate]) => ({ min_age: min, max_age: max, rate_per_thousand_paise: rate })));
    const name = { term: 'Term Shield', endowment: 'Jeevan Savings', health: i % 2 === 0 ? 'Family Health Cover' : 'Senior Health Plus' }[kind];
    return `(${i + 1}, ${Math.floor(i / 2) + 1}, 'P${i + 1}', ${sqlText(name)}, '${kind}', ${r.min}, ${r.max}, ${r.maturity}, ${r.sa[0]}::bigint, ${r.sa[1]}::bigint,
      ${r.terms[0]}, ${r.terms[1]}, ARRAY[${r.modes.map(sqlText).join(',')}], ${sqlText(rates)}::jsonb)`;
  }).join(',\n');
  const userRegion = `CASE WHEN u.i <= ${a} THEN 2 + u.i % 5 WHEN u.i BETWEEN ${a + 7} AND ${a + 11} THEN u.i - ${a + 5} END`;
  return [
    `INSERT INTO regions (id, code, name, parent_id, path, created_at, updated_at)
     SELECT r.id, code, name, p.id, path, ${at('6 years')}, ${at('6 years')} FROM ${regions} JOIN m_region r ON r.k = v.k LEFT JOIN m_region p ON p.k = v.parent
     ORDER BY v.k`,
    `INSERT INTO providers (id, code, name, type, status, irdai_registration_number, contact_email, contact_phone, created_at, updated_at)
     SELECT p.id, code, name, type, 'active', (100 + v.k * 37)::text, lower(code) || '@insurer.example', '+91220000000' || v.k, ${at('5 years')}, ${at('5 years')}
     FROM (VALUES ${providers}) v(k, code, name, type) JOIN m_provider p ON p.k = v.k`,
    `INSERT INTO products (id, provider_id, code, name, kind, status, min_entry_age, max_entry_age, max_maturity_age, min_sum_assured_paise,
       max_sum_assured_paise, min_term_years, max_term_years, premium_modes, modal_factors, rate_table, tax_rate_bp, created_at, updated_at)
     SELECT d.id, p.id, code, name, kind, 'active', mn, mx, mat, samin, samax, tmin, tmax, modes, NULL, rates, NULL, ${at('4 years')}, ${at('4 years')}
     FROM (VALUES ${products}) v(k, prov, code, name, kind, mn, mx, mat, samin, samax, tmin, tmax, modes, rates)
     JOIN m_product d ON d.k = v.k JOIN m_provider p ON p.k = v.prov`,
    `INSERT INTO commission_rules (id, provider_id, product_kind, first_year_bp, renewal_bp, override_bp)
     SELECT gen_random_uuid(), id, NULL, 2000 + k * 250, 500, 1000 FROM m_provider`,
    `INSERT INTO users (id, phone_number, email, full_name, password_hash, role, status, provider_id, region_id, phone_verified_at, last_login_at,
       password_changed_at, created_at, updated_at)
     SELECT u.id, '+9170' || lpad(u.i::text, 8, '0'), CASE WHEN u.i % 5 < 3 THEN 'user' || u.i || '@bench.bima.in' END, pg_temp.person(u.i), $1,
       CASE WHEN u.i <= ${s} THEN 'senior_agent' WHEN u.i <= ${a} THEN 'junior_agent' WHEN u.i = ${superAdmin} THEN 'super_admin'
            WHEN u.i <= ${a + 6} THEN 'provider_admin' WHEN u.i <= ${a + 11} THEN 'regional_manager' ELSE 'policyholder' END,
       CASE WHEN u.i > ${a + 11} AND u.i % 40 = 3 THEN 'pending_verification' WHEN u.i > ${a + 11} AND u.i % 97 = 5 THEN 'inactive' ELSE 'active' END,
       pv.id, rg.id, CASE WHEN u.i <= ${a + 11} OR u.i % 40 <> 3 THEN u.ts + interval '5 minutes' END,
       CASE WHEN u.i % 3 = 0 THEN ${sqlText(t0)}::timestamptz - (u.i % 30) * interval '1 day' END, u.ts, u.ts, u.ts
     FROM m_user u
     LEFT JOIN m_provider pv ON u.i BETWEEN ${a + 2} AND ${a + 6} AND pv.k = u.i - ${a + 1}
     LEFT JOIN m_region rg ON rg.k = ${userRegion}
     ORDER BY u.i`,
    `INSERT INTO agents (id, user_id, agent_code, status, status_reason, license_number, license_expiry, pan, region_id, manager_agent_id,
       approved_at, approved_by, created_at, updated_at)
     SELECT ag.id, ag.user_id, 'AG-' || (ARRAY['IN','MH','KA','DL','TN','WB'])[2 + (ag.j % 5)::int] || '-' || lpad(ag.j::text, 6, '0'),
       CASE WHEN ag.j % 50 = 7 THEN 'suspended' ELSE 'active' END, CASE WHEN ag.j % 50 = 7 THEN 'Licence renewal pending' END,
       'IRDA/' || lpad(ag.j::text, 7, '0'), (${sqlText(t0)}::date + 365 + (ag.j % 1000)::int),
       'ABCP' || chr(65 + (ag.j % 26)::int) || lpad((1000 + ag.j % 9000)::text, 4, '0') || chr(65 + ((ag.j / 26) % 26)::int),
       rg.id, mgr.id, ag.ts + interval '1 day', sa.id, ag.ts, ag.ts + interval '1 day'
     FROM m_agent ag
     JOIN m_region rg ON rg.k = 2 + ag.j % 5
     LEFT JOIN m_agent mgr ON ag.j > ${s} AND ag.j % 2 = 0 AND mgr.j = 1 + ag.j % ${s}
     CROSS JOIN (SELECT id FROM m_user WHERE i = ${superAdmin}) sa
     ORDER BY ag.j`,
    `INSERT INTO agent_providers (agent_id, provider_id, provider_type, created_at)
     SELECT ag.id, p.id, t.type, ag.ts + interval '1 day'
     FROM m_agent ag
     CROSS JOIN LATERAL (VALUES (1 + ag.j % 2, 'life', true), (3 + ag.j % 2, 'health', ag.j % 3 <> 0), (5, 'general', ag.j % 4 = 0)) t(prov, type, linked)
     JOIN m_provider p ON p.k = t.prov
     WHERE t.linked`,
    `SELECT setval('agent_code_seq', ${a})`,
  ];
}

export function customerStatement(sizes: SeedSizes): string {
  const { agents: a, users: n } = sizes;
  const first = layout(sizes).firstPolicyholder;
  const holder = `${first} + c.k / 2 - 1`;
  const linked = `(c.k % 2 = 0 AND ${holder} <= ${n})`;
  return `INSERT INTO customers (id, agent_id, user_id, full_name, date_of_birth, gender, phone_number, email, pan, address, created_at, updated_at)
    SELECT c.id, ag.id, u.id, pg_temp.person(CASE WHEN ${linked} THEN ${holder} ELSE c.k + 7 END), date '1972-01-01' + ((c.k * 7919) % 11300)::int,
      CASE WHEN c.k % 50 = 0 THEN 'other' WHEN c.k % 2 = 0 THEN 'female' ELSE 'male' END,
      CASE WHEN ${linked} THEN '+9170' || lpad((${holder})::text, 8, '0') ELSE '+9180' || lpad(c.k::text, 8, '0') END,
      CASE WHEN c.k % 4 = 1 THEN 'customer' || c.k || '@mail.example' END,
      CASE WHEN c.k % 3 = 0 THEN 'BCDP' || chr(65 + (c.k % 26)::int) || lpad((1000 + c.k % 9000)::text, 4, '0') || 'K' END,
      CASE WHEN c.k % 2 = 1 THEN jsonb_build_object('line1', c.k || ' MG Road', 'city', (ARRAY['Pune','Mumbai','Bengaluru','Delhi','Chennai','Kolkata'])[1 + (c.k % 6)::int],
        'pincode', (400000 + c.k % 99999)::text) END,
      c.ts, c.ts
    FROM m_customer c
    JOIN m_agent ag ON ag.j = ((c.k - 1) % ${a}) + 1
    LEFT JOIN m_user u ON ${linked} AND u.i = ${holder}
    ORDER BY c.k`;
}

/** Seeds an empty, migrated database; returns how long each step took, in seconds. */
export async function seedDatabase(url: string, sizes: SeedSizes, passwordHash: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url, application_name: 'bima-bench-seed' });
  await client.connect();
  const timings: Record<string, number> = {};
  const step = async (name: string, statement: string, params: unknown[] = []) => {
    const started = performance.now();
    await client.query(statement, params);
    timings[name] = (performance.now() - started) / 1000;
    console.log(`  seed: ${name} ${timings[name]!.toFixed(1)} s`);
  };
  try {
    const t0 = new Date().toISOString();
    // JIT compiles these one-off statements for longer than they run.
    await client.query('SET synchronous_commit = off; SET jit = off');
    for (const statement of helperFunctions(sizes, t0)) await client.query(statement);
    const maps = performance.now();
    for (const statement of mappingTables(sizes, t0)) await client.query(statement);
    timings['id maps'] = (performance.now() - maps) / 1000;
    const [regions, providers, products, commissions, users, agents, links, sequence] = directoryStatements(sizes, t0);
    await step('regions', regions!);
    await step('providers', providers!);
    await step('products', products!);
    await step('commission_rules', commissions!);
    await step(`users (${sizes.users})`, users!, [passwordHash]);
    await step(`agents (${sizes.agents})`, agents!);
    await step('agent_providers', links!);
    await client.query(sequence!);
    await step(`customers (${sizes.customers})`, customerStatement(sizes));
    await step(`policies (${sizes.policies})`, policyStatement(sizes, t0));
    await step('policy_status_history', historyStatement(t0));
    await client.query(`SELECT setval('policy_number_seq', ${sizes.policies})`);
    await step('analyze', 'ANALYZE');
  } finally {
    await client.end();
  }
  return timings;
}
