import type { ProviderType, Role, UserStatus } from '../../src/db/types.js';
import { newId } from '../../src/shared/ids.js';
import { createUser, nextPhone, signIn, type SignedIn, type TestContext } from './app.js';

/**
 * Small factories for user-administration tests: rows the tests need as
 * fixtures (providers, regions, agent records) go straight in with Kysely;
 * what is under test goes through the API.
 */
let serial = 0;
const nextSerial = () => {
  serial += 1;
  return `${process.pid % 1000}${serial}`;
};

export async function insertProvider(ctx: TestContext, type: ProviderType = 'life', name = 'Test Insurer'): Promise<string> {
  const id = newId();
  await ctx.database.db.insertInto('providers').values({ id, code: `P${nextSerial()}`, name, type }).execute();
  return id;
}

export interface TestRegion {
  id: string;
  code: string;
  path: string;
}

export async function insertRegion(ctx: TestContext, parent?: TestRegion, code = `R${nextSerial()}`): Promise<TestRegion> {
  const id = newId();
  const path = `${parent?.path ?? ''}${code}/`;
  await ctx.database.db.insertInto('regions').values({ id, code, name: `Region ${code}`, parent_id: parent?.id ?? null, path }).execute();
  return { id, code, path };
}

/** An agent record for an existing user, optionally in a region and linked to providers. */
export async function insertAgent(ctx: TestContext, userId: string, options: { regionId?: string; providers?: Array<{ id: string; type: ProviderType }>; agentCode?: string } = {}): Promise<string> {
  const id = newId();
  await ctx.database.db.insertInto('agents').values({
    id, user_id: userId, agent_code: options.agentCode ?? null, status: 'active', license_number: `LIC-${nextSerial()}`, license_expiry: '2030-12-31',
    pan: 'ABCPE1234F', region_id: options.regionId ?? null,
  }).execute();
  for (const provider of options.providers ?? []) {
    await ctx.database.db.insertInto('agent_providers').values({ agent_id: id, provider_id: provider.id, provider_type: provider.type }).execute();
  }
  return id;
}

export interface Placement {
  providerId?: string | null;
  regionId?: string | null;
  fullName?: string;
  email?: string | null;
}

/** A signed-in user of a role, placed in a provider or region. */
export async function signInWith(ctx: TestContext, role: Role, placement: Placement = {}): Promise<SignedIn> {
  const user = await createUser(ctx, role, placement);
  return signIn(ctx, user.phone);
}

/** An active user (not signed in) of a role, placed in a provider or region. */
export async function userWith(ctx: TestContext, role: Role, placement: Placement = {}): Promise<{ id: string; phone: string }> {
  return createUser(ctx, role, placement);
}

/**
 * A user row written directly (no password, so no slow hash): for tests that
 * need many users or exact creation times.
 */
export async function insertUserRow(ctx: TestContext, row: { fullName: string; createdAt?: Date; role?: Role; status?: UserStatus; phone?: string; email?: string; providerId?: string; regionId?: string }): Promise<string> {
  const createdAt = row.createdAt ?? ctx.clock.now();
  const id = newId(createdAt.getTime());
  await ctx.database.db.insertInto('users').values({
    id, phone_number: row.phone ?? nextPhone(), email: row.email ?? null, full_name: row.fullName, role: row.role ?? 'policyholder', status: row.status ?? 'active',
    provider_id: row.providerId ?? null, region_id: row.regionId ?? null, created_at: createdAt, updated_at: createdAt,
  }).execute();
  return id;
}
