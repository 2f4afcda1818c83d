import { sql, type Kysely, type Transaction } from 'kysely';
import { createAccount } from '../bootstrap.js';
import type { PasswordHasher } from '../modules/auth/auth.passwords.js';
import { formatPolicyNumber } from '../modules/policies/policy-number.js';
import { computePremium, type RatingRules } from '../modules/policies/premium.js';
import { kolkataDate, type Clock } from '../shared/clock.js';
import { newId } from '../shared/ids.js';
import type { DB, Role } from './types.js';

/** The demo accounts README lists; one per role, all with the same demo password. */
export const DEMO_PASSWORD = 'bima demo password 2026';
export const DEMO_ACCOUNTS: ReadonlyArray<{ phone: string; fullName: string; role: Role; email: string }> = [
  { phone: '+919800000001', fullName: 'Sunita Rao', role: 'super_admin', email: 'admin@demo.bima.in' },
  { phone: '+919800000002', fullName: 'Farhan Sheikh', role: 'provider_admin', email: 'provider.admin@demo.bima.in' },
  { phone: '+919800000003', fullName: 'Meera Iyer', role: 'regional_manager', email: 'manager@demo.bima.in' },
  { phone: '+919800000004', fullName: 'Arjun Patel', role: 'senior_agent', email: 'senior.agent@demo.bima.in' },
  { phone: '+919800000005', fullName: 'Kavya Nair', role: 'junior_agent', email: 'junior.agent@demo.bima.in' },
  { phone: '+919800000006', fullName: 'Ravi Kumar', role: 'policyholder', email: 'policyholder@demo.bima.in' },
];

const TERM_RULES: RatingRules = {
  kind: 'term', min_entry_age: 18, max_entry_age: 60, max_maturity_age: 75,
  min_sum_assured_paise: 25_00_000_00, max_sum_assured_paise: 10_00_00_000_00, min_term_years: 5, max_term_years: 40,
  premium_modes: ['annual', 'half_yearly', 'quarterly', 'monthly'],
  rate_table: [
    { min_age: 18, max_age: 30, rate_per_thousand_paise: 95 },
    { min_age: 31, max_age: 45, rate_per_thousand_paise: 180 },
    { min_age: 46, max_age: 60, rate_per_thousand_paise: 420 },
  ],
  tax_rate_bp: null,
};

type Trx = Transaction<DB>;

/**
 * Seeds a small, coherent agency into an empty database: regions, a life and a
 * health insurer with products and commission rules, one account per role
 * (the provider admin belongs to the life insurer, the manager to Maharashtra,
 * the agents are approved, the junior one in the senior one's team), customers
 * and policies in several states. Does nothing once any user exists.
 */
export async function seedDemoData(db: Kysely<DB>, hasher: PasswordHasher, clock: Clock): Promise<boolean> {
  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) return false;
  const ids = new Map<Role, string>();
  for (const account of DEMO_ACCOUNTS) {
    const id = await createAccount(db, hasher, clock, { ...account, password: DEMO_PASSWORD });
    if (id) ids.set(account.role, id);
  }
  await db.transaction().execute((trx) => seedDirectory(trx, ids, clock.now()));
  return true;
}

async function seedDirectory(trx: Trx, ids: Map<Role, string>, now: Date): Promise<void> {
  const india = await insertRegion(trx, 'IN', 'India', null, 'IN/');
  const maharashtra = await insertRegion(trx, 'MH', 'Maharashtra', india, 'IN/MH/');
  const life = newId();
  const health = newId();
  await trx.insertInto('providers').values([
    { id: life, code: 'SURAKSHA', name: 'Suraksha Life Insurance', type: 'life', irdai_registration_number: '512', contact_email: 'partners@suraksha.example' },
    { id: health, code: 'AROGYA', name: 'Arogya Health Insurance', type: 'health', irdai_registration_number: '148' },
  ]).execute();
  const product = newId();
  await trx.insertInto('products').values({
    id: product, provider_id: life, code: 'TERM-PLUS', name: 'Term Plus', ...TERM_RULES, rate_table: JSON.stringify(TERM_RULES.rate_table), modal_factors: null,
  }).execute();
  await trx.insertInto('commission_rules').values({ id: newId(), provider_id: life, product_kind: null, first_year_bp: 3000, renewal_bp: 500, override_bp: 500 }).execute();
  await trx.updateTable('users').set({ provider_id: life }).where('id', '=', ids.get('provider_admin')!).execute();
  await trx.updateTable('users').set({ region_id: maharashtra }).where('id', '=', ids.get('regional_manager')!).execute();
  const senior = await insertAgent(trx, ids.get('senior_agent')!, maharashtra, null, [life, health], now);
  const junior = await insertAgent(trx, ids.get('junior_agent')!, maharashtra, senior, [life], now);
  await seedCustomersAndPolicies(trx, { product, provider: life, agent: junior, agentUser: ids.get('junior_agent')!, holder: ids.get('policyholder')! }, now);
}

async function insertRegion(trx: Trx, code: string, name: string, parentId: string | null, path: string): Promise<string> {
  const id = newId();
  await trx.insertInto('regions').values({ id, code, name, parent_id: parentId, path }).execute();
  return id;
}

async function insertAgent(trx: Trx, userId: string, regionId: string, managerId: string | null, providerIds: string[], now: Date): Promise<string> {
  const id = newId();
  const { rows } = await sql<{ n: number }>`SELECT nextval('agent_code_seq')::int AS n`.execute(trx);
  await trx.insertInto('agents').values({
    id, user_id: userId, agent_code: `AG-MH-${String(rows[0]!.n).padStart(6, '0')}`, status: 'active', license_number: `IRDA/LIC/${rows[0]!.n}`,
    license_expiry: '2029-03-31', pan: 'ABCPK1234E', region_id: regionId, manager_agent_id: managerId, approved_at: now,
  }).execute();
  const providers = await trx.selectFrom('providers').select(['id', 'type']).where('id', 'in', providerIds).execute();
  await trx.insertInto('agent_providers').values(providers.map((p) => ({ agent_id: id, provider_id: p.id, provider_type: p.type }))).execute();
  return id;
}

const CUSTOMERS = [
  { full_name: 'Ravi Kumar', date_of_birth: '1988-07-12', gender: 'male', phone_number: '+919800000006' },
  { full_name: 'Lakshmi Menon', date_of_birth: '1979-02-03', gender: 'female', phone_number: '+919811100001' },
  { full_name: 'Imran Qureshi', date_of_birth: '1992-11-25', gender: 'male', phone_number: '+919811100002' },
] as const;

async function seedCustomersAndPolicies(trx: Trx, at: { product: string; provider: string; agent: string; agentUser: string; holder: string }, now: Date): Promise<void> {
  const today = kolkataDate(now);
  const statuses = ['active', 'submitted', 'draft'] as const;
  for (const [i, customer] of CUSTOMERS.entries()) {
    const customerId = newId();
    await trx.insertInto('customers').values({ id: customerId, agent_id: at.agent, user_id: i === 0 ? at.holder : null, ...customer, email: null, pan: null, address: null }).execute();
    const quote = computePremium(TERM_RULES, { date_of_birth: customer.date_of_birth, start_date: today, sum_assured_paise: 1_00_00_000_00, term_years: 25, premium_mode: 'monthly' });
    const status = statuses[i]!;
    const issued = status === 'active';
    const policyNumber = issued ? formatPolicyNumber('SURAKSHA', now.getUTCFullYear(), (await sql<{ n: number }>`SELECT nextval('policy_number_seq')::int AS n`.execute(trx)).rows[0]!.n) : null;
    await trx.insertInto('policies').values({
      id: newId(), policy_number: policyNumber, product_id: at.product, provider_id: at.provider, customer_id: customerId, agent_id: at.agent, created_by: at.agentUser,
      status, sum_assured_paise: 1_00_00_000_00, term_years: 25, premium_mode: 'monthly', age_at_entry: quote.age, base_annual_paise: quote.base_annual_paise,
      modal_factor: String(quote.modal_factor), installment_paise: quote.installment_paise, tax_rate_bp: quote.tax_rate_bp, tax_paise: quote.tax_paise,
      total_installment_paise: quote.total_installment_paise, annualized_total_paise: quote.annualized_total_paise,
      nominee: JSON.stringify({ name: 'Family Nominee', relationship: 'spouse', share_percent: 100 }),
      start_date: issued ? today : null, issued_at: issued ? now : null,
    }).execute();
  }
}
