import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import { insertAgent, insertProvider, insertRegion, insertUserRow, signInWith, type TestRegion } from '../../../test/helpers/factories-users.js';

let ctx: TestContext;
let superAdmin: SignedIn;

beforeAll(async () => {
  ctx = await buildTestApp();
  superAdmin = await signInWith(ctx, 'super_admin');
});
afterAll(() => ctx.close());

const search = (who: SignedIn, query: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/users/search?${query}`, headers: who.headers });
const idsOf = (response: { json(): { items: Array<{ id: string }> } }) => response.json().items.map((u) => u.id);

const NAMES = ['Bharat', 'Chitra', 'Deepak', 'Esha', 'Farhan', 'Gauri', 'Harish', 'Indira', 'Jatin'];
const BASE = new Date('2026-03-01T09:00:00Z');
const minutes = (n: number) => new Date(BASE.getTime() + n * 60_000);

/**
 * 25 users named "<token> <name>" (names repeat, and creation times repeat in
 * threes, so ties are broken by id). Returns their ids.
 */
async function seedPool(token: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 25; i++) {
    ids.push(await insertUserRow(ctx, { fullName: `${token} ${NAMES[i % NAMES.length]}`, createdAt: new Date(BASE.getTime() + Math.floor(i / 3) * 1000) }));
  }
  return ids;
}

/**
 * Rows to slip in between page fetches: "front" ones sort before everything
 * seen so far in ascending order (earlier, or 'Aaa' with falling numbers),
 * "back" ones after everything (later, or 'Zzz' with rising numbers).
 */
function inserter(token: string) {
  let k = 0;
  const front: string[] = [];
  const back: string[] = [];
  return {
    front, back,
    async insertBoth() {
      k += 1;
      front.push(await insertUserRow(ctx, { fullName: `${token} Aaa ${String(99 - k).padStart(2, '0')}`, createdAt: minutes(-10 * k) }));
      back.push(await insertUserRow(ctx, { fullName: `${token} Zzz ${String(k).padStart(2, '0')}`, createdAt: minutes(60 + 10 * k) }));
    },
  };
}

describe('paging through search results', () => {
  const cases = [
    { sort: 'full_name', token: 'Quokka', seesInserted: 'back' },
    { sort: '-full_name', token: 'Wombat', seesInserted: 'front' },
    { sort: 'created_at', token: 'Pangolin', seesInserted: 'back' },
    { sort: '-created_at', token: 'Narwhal', seesInserted: 'front' },
  ] as const;

  for (const { sort, token, seesInserted } of cases) {
    it(`pages of 7 sorted by ${sort} hold every row exactly once, with rows inserted between pages`, async () => {
      const original = await seedPool(token);
      const inserted = inserter(token);
      const seen: string[] = [];
      const pages: Array<Array<{ full_name: string; created_at: string }>> = [];
      let cursor: string | null = null;
      do {
        const response = await search(superAdmin, `q=${token}&sort=${sort}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.statusCode).toBe(200);
        const body = response.json();
        expect(body.items.length).toBeLessThanOrEqual(7);
        pages.push(body.items);
        seen.push(...idsOf(response));
        cursor = body.next_cursor;
        if (cursor) await inserted.insertBoth();
      } while (cursor);
      expect(pages.length).toBeGreaterThanOrEqual(4);
      expect(new Set(seen).size).toBe(seen.length);
      expect(new Set(seen)).toEqual(new Set([...original, ...inserted[seesInserted]]));
      const keys = pages.flat().map((u) => (sort.endsWith('full_name') ? u.full_name.toLowerCase() : u.created_at));
      const ordered = [...keys].sort();
      expect(keys).toEqual(sort.startsWith('-') ? ordered.reverse() : ordered);
    });
  }

  it('refuses a cursor from another sort order, a forged cursor and an unknown sort with 422', async () => {
    const first = await search(superAdmin, 'sort=full_name&limit=1');
    const cursor = first.json().next_cursor as string;
    expect((await search(superAdmin, `sort=-created_at&cursor=${cursor}`)).statusCode).toBe(422);
    expect((await search(superAdmin, 'cursor=bm90LWEtY3Vyc29y')).statusCode).toBe(422);
    expect((await search(superAdmin, 'sort=password_hash')).statusCode).toBe(422);
    expect((await search(superAdmin, 'limit=101')).statusCode).toBe(422);
  });
});

describe('what q matches', () => {
  let phoneUser: string;
  let emailUser: string;
  let agentUser: string;

  beforeAll(async () => {
    phoneUser = await insertUserRow(ctx, { fullName: 'Lakshmi Menon', phone: '+919876543210' });
    emailUser = await insertUserRow(ctx, { fullName: 'Omkar Joshi', email: 'omkar.joshi@example.in' });
    agentUser = await insertUserRow(ctx, { fullName: 'Tara Singh', role: 'junior_agent' });
    await insertAgent(ctx, agentUser, { agentCode: 'AG-MH-000777' });
  });

  it('a phone prefix matches however it is written', async () => {
    for (const q of ['98765', '+9198765', '098765', '+91%2098765%2043210']) {
      expect(idsOf(await search(superAdmin, `q=${q}`)), q).toEqual([phoneUser]);
    }
  });

  it('an email prefix, an agent code prefix and a part of the name match, case aside', async () => {
    expect(idsOf(await search(superAdmin, 'q=OMKAR.J'))).toEqual([emailUser]);
    expect(idsOf(await search(superAdmin, 'q=ag-mh-0007'))).toEqual([agentUser]);
    expect(idsOf(await search(superAdmin, 'q=kshmi'))).toEqual([phoneUser]);
  });

  it('LIKE wildcards in q are taken literally', async () => {
    expect(idsOf(await search(superAdmin, 'q=%25'))).toEqual([]);
    // Unescaped, 't_s' would match 'Test'.
    expect(idsOf(await search(superAdmin, 'q=t_s'))).toEqual([]);
  });
});

describe('filters and scope', () => {
  let providerA: string;
  let providerB: string;
  let north: TestRegion;
  let northEast: TestRegion;
  let south: TestRegion;
  const made = { a1: '', a2: '', b1: '', agentA: '', gone: '' };

  beforeAll(async () => {
    providerA = await insertProvider(ctx);
    providerB = await insertProvider(ctx);
    const root = await insertRegion(ctx);
    north = await insertRegion(ctx, root);
    northEast = await insertRegion(ctx, north);
    south = await insertRegion(ctx, root);
    made.a1 = await insertUserRow(ctx, { fullName: 'Scope Alpha One', role: 'junior_agent', providerId: providerA, regionId: south.id, createdAt: new Date('2020-01-01T00:00:00Z') });
    made.a2 = await insertUserRow(ctx, { fullName: 'Scope Alpha Two', role: 'policyholder', providerId: providerA, status: 'suspended' });
    made.b1 = await insertUserRow(ctx, { fullName: 'Scope Beta One', role: 'junior_agent', providerId: providerB, regionId: northEast.id });
    made.agentA = await insertUserRow(ctx, { fullName: 'Scope Agent Linked', role: 'senior_agent' });
    await insertAgent(ctx, made.agentA, { providers: [{ id: providerA, type: 'life' }], regionId: north.id });
    made.gone = await insertUserRow(ctx, { fullName: 'Scope Alpha Gone', role: 'policyholder', providerId: providerA, status: 'deleted' });
  });

  it('a provider_admin finds its provider\'s users and linked agents, nobody else', async () => {
    const admin = await signInWith(ctx, 'provider_admin', { providerId: providerA, fullName: 'Scope Admin A' });
    const found = idsOf(await search(admin, 'q=scope&limit=100'));
    expect(new Set(found)).toEqual(new Set([made.a1, made.a2, made.agentA, admin.userId]));
  });

  it('a regional_manager finds the users and agents of its region\'s subtree', async () => {
    const manager = await signInWith(ctx, 'regional_manager', { regionId: north.id, fullName: 'Scope Manager North' });
    const found = idsOf(await search(manager, 'q=scope&limit=100'));
    expect(new Set(found)).toEqual(new Set([made.b1, made.agentA, manager.userId]));
  });

  it('filters by role, status, provider, region and creation time; deleted users only on request', async () => {
    const ids = async (query: string) => new Set(idsOf(await search(superAdmin, `q=scope&limit=100&${query}`)));
    expect(await ids('role=junior_agent')).toEqual(new Set([made.a1, made.b1]));
    expect(await ids('status=suspended')).toEqual(new Set([made.a2]));
    expect(await ids('status=deleted')).toEqual(new Set([made.gone]));
    const ofA = await ids(`provider_id=${providerA}`);
    expect([made.a1, made.a2, made.b1, made.agentA].map((id) => ofA.has(id))).toEqual([true, true, false, false]);
    expect(await ids(`region_id=${northEast.id}`)).toEqual(new Set([made.b1]));
    expect(await ids('created_to=2021-01-01T00:00:00Z')).toEqual(new Set([made.a1]));
    const later = await ids('created_from=2021-01-01T00:00:00Z');
    expect([later.has(made.a1), later.has(made.b1)]).toEqual([false, true]);
  });
});
