/**
 * Directory fixtures: regions, providers, products, agents and customers,
 * inserted straight into the tables so a test can start from any state
 * without walking the endpoints. Signatures are kept stable: other suites
 * (policies) build on createActiveAgent, createProduct and createCustomer.
 */
import { sql } from 'kysely';
import type { AgentStatus, ProductKind, ProviderType } from '../../src/db/types.js';
import { formatAgentCode } from '../../src/modules/agents/agents.service.js';
import type { RatingRules } from '../../src/modules/policies/premium.js';
import { newId } from '../../src/shared/ids.js';
import { createUser, nextPhone, signIn, type SignedIn, type TestContext } from './app.js';

let counter = 0;
/** Unique per test file (and per process, so parallel files do not collide on a shared server). */
function unique(): string {
  counter += 1;
  return `${String(process.pid % 1000).padStart(3, '0')}${String(counter).padStart(3, '0')}`;
}

export interface RegionFixture { id: string; code: string; path: string }

/** A region, under `parent` when given (paths are the codes joined by '/', ending in '/'). */
export async function createRegion(ctx: TestContext, options: { code?: string; parent?: RegionFixture } = {}): Promise<RegionFixture> {
  const id = newId();
  const code = options.code ?? `RG${unique()}`;
  const path = `${options.parent?.path ?? ''}${code}/`;
  await ctx.database.db.insertInto('regions').values({ id, code, name: `Region ${code}`, parent_id: options.parent?.id ?? null, path }).execute();
  return { id, code, path };
}

export interface ProviderFixture { id: string; code: string; type: ProviderType }

export async function createProvider(ctx: TestContext, options: { code?: string; type?: ProviderType; status?: 'active' | 'inactive' | 'suspended'; name?: string } = {}): Promise<ProviderFixture> {
  const id = newId();
  const code = options.code ?? `PV${unique()}`;
  const type = options.type ?? 'life';
  await ctx.database.db.insertInto('providers').values({
    id, code, name: options.name ?? `Provider ${code}`, type, status: options.status ?? 'active', status_reason: null,
    irdai_registration_number: null, contact_email: null, contact_phone: null,
  }).execute();
  return { id, code, type };
}

/** A product's rules as the engine reads them, every field given. */
export type ProductRules = Required<RatingRules>;

/** A consistent term product: entry 18..60, maturity by 85, ₹1 lakh..₹5 crore, 5..25 years, every mode. */
export const DEFAULT_PRODUCT_RULES: Readonly<ProductRules> = Object.freeze<ProductRules>({
  kind: 'term',
  min_entry_age: 18,
  max_entry_age: 60,
  max_maturity_age: 85,
  min_sum_assured_paise: 10_000_000,
  max_sum_assured_paise: 5_000_000_000,
  min_term_years: 5,
  max_term_years: 25,
  premium_modes: ['annual', 'half_yearly', 'quarterly', 'monthly'],
  rate_table: [
    { min_age: 18, max_age: 40, rate_per_thousand_paise: 1_500 },
    { min_age: 41, max_age: 60, rate_per_thousand_paise: 4_200 },
  ],
  tax_rate_bp: null,
  modal_factors: null,
});

export interface ProductFixture { id: string; providerId: string; code: string; kind: ProductKind }

export async function createProduct(
  ctx: TestContext,
  providerId: string,
  options: Partial<ProductRules> & { code?: string; name?: string; status?: 'active' | 'inactive' } = {},
): Promise<ProductFixture> {
  const { code = `PD${unique()}`, name = 'Term Shield', status = 'active', ...overrides } = options;
  const rules = { ...DEFAULT_PRODUCT_RULES, ...overrides };
  const id = newId();
  await ctx.database.db.insertInto('products').values({
    id, provider_id: providerId, code, name, status, ...rules,
    rate_table: JSON.stringify(rules.rate_table), modal_factors: rules.modal_factors ? JSON.stringify(rules.modal_factors) : null,
  }).execute();
  return { id, providerId, code, kind: rules.kind };
}

export interface AgentFixture extends SignedIn {
  agentId: string;
  agentCode: string | null;
}

export interface AgentFixtureOptions {
  providerIds?: string[];
  regionId?: string | null;
  role?: 'junior_agent' | 'senior_agent';
  managerAgentId?: string | null;
  status?: AgentStatus;
  licenseExpiry?: string;
}

/**
 * An agent (active by default, with an agent code), its user, its provider
 * links, signed in. Providers are looked up for their type, so pass ids only.
 */
export async function createActiveAgent(ctx: TestContext, options: AgentFixtureOptions = {}): Promise<AgentFixture> {
  const db = ctx.database.db;
  const user = await createUser(ctx, options.role ?? 'junior_agent');
  const status = options.status ?? 'active';
  const region = options.regionId ? await db.selectFrom('regions').select('code').where('id', '=', options.regionId).executeTakeFirst() : undefined;
  const sequence = (await sql<{ n: number }>`SELECT nextval('agent_code_seq')::bigint AS n`.execute(db)).rows[0]!.n;
  const agentCode = status === 'pending_approval' || status === 'rejected' ? null : formatAgentCode(region?.code ?? null, sequence);
  const agentId = newId();
  await db.insertInto('agents').values({
    id: agentId, user_id: user.id, agent_code: agentCode, status, status_reason: null, license_number: `LIC/${unique()}`,
    license_expiry: options.licenseExpiry ?? '2099-12-31', pan: 'ABCPK1234Z', region_id: options.regionId ?? null,
    manager_agent_id: options.managerAgentId ?? null, approved_at: agentCode ? ctx.clock.now() : null, approved_by: null,
  }).execute();
  for (const providerId of options.providerIds ?? []) {
    const provider = await db.selectFrom('providers').select('type').where('id', '=', providerId).executeTakeFirstOrThrow();
    await db.insertInto('agent_providers').values({ agent_id: agentId, provider_id: providerId, provider_type: provider.type }).execute();
  }
  return { ...(await signIn(ctx, user.phone)), agentId, agentCode };
}

export interface CustomerFixture { id: string; phone: string }

export async function createCustomer(
  ctx: TestContext,
  agentId: string,
  options: { fullName?: string; dateOfBirth?: string; phone?: string; gender?: 'female' | 'male' | 'other'; userId?: string | null } = {},
): Promise<CustomerFixture> {
  const id = newId();
  const phone = options.phone ?? nextPhone();
  await ctx.database.db.insertInto('customers').values({
    id, agent_id: agentId, user_id: options.userId ?? null, full_name: options.fullName ?? 'Meera Iyer', date_of_birth: options.dateOfBirth ?? '1990-06-15',
    gender: options.gender ?? 'female', phone_number: phone, email: null, pan: null, address: null,
  }).execute();
  return { id, phone };
}

/** An admin of one provider (users.provider_id), signed in. */
export async function signInProviderAdmin(ctx: TestContext, providerId: string): Promise<SignedIn> {
  return signIn(ctx, (await createUser(ctx, 'provider_admin', { providerId })).phone);
}

/** A regional manager of one region (and its sub-regions), signed in. */
export async function signInRegionalManager(ctx: TestContext, regionId: string): Promise<SignedIn> {
  return signIn(ctx, (await createUser(ctx, 'regional_manager', { regionId })).phone);
}

/** The smallest files each recognised type needs: a PDF header, a real 1×1 PNG. */
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

/** A multipart/form-data body as a browser would send it. */
export function multipart(fields: Record<string, string>, file?: { bytes: Buffer; filename?: string; contentType?: string; field?: string }) {
  const boundary = `----bima-test-${newId()}`;
  const chunks: Buffer[] = Object.entries(fields).map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  if (file) {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.filename ?? 'document.pdf'}"\r\nContent-Type: ${file.contentType ?? 'application/pdf'}\r\n\r\n`;
    chunks.push(Buffer.from(head), file.bytes, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

let bulk = 0;
/**
 * `count` active agents and their users in a region (linked to `provider`
 * if given), in bulk (no sign-in): for a scope larger than the short lists
 * (SHORT_AGENT_LIST, SHORT_USER_LIST) without a thousand round trips.
 * Returns their user ids.
 */
export async function insertAgentsInRegion(ctx: TestContext, regionId: string, count: number, provider?: ProviderFixture): Promise<string[]> {
  const from = bulk;
  bulk += count;
  const { rows } = await sql<{ id: string; agent_id: string }>`
    WITH u AS (
      INSERT INTO users (id, phone_number, full_name, role, status)
      SELECT gen_random_uuid(), '+9196' || ${String(process.pid % 1000).padStart(3, '0')} || lpad((${from} + g)::text, 5, '0'), 'Bulk Agent ' || g, 'junior_agent', 'active'
      FROM generate_series(1, ${count}::int) g
      RETURNING id)
    INSERT INTO agents (id, user_id, agent_code, status, license_number, license_expiry, pan, region_id)
    SELECT gen_random_uuid(), u.id, 'AG-B-' || u.id, 'active', 'LIC-BULK', '2099-12-31', 'ABCPK1234Z', ${regionId}::uuid FROM u
    RETURNING user_id AS id, id AS agent_id`.execute(ctx.database.db);
  if (provider) {
    await sql`INSERT INTO agent_providers (agent_id, provider_id, provider_type)
      SELECT unnest(${rows.map((row) => row.agent_id)}::uuid[]), ${provider.id}::uuid, ${provider.type}`.execute(ctx.database.db);
  }
  return rows.map((row) => row.id);
}
