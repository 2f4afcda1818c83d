import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import { insertProvider, signInWith } from '../../../test/helpers/factories-users.js';

let ctx: TestContext;
let superAdmin: SignedIn;
let policyholder: SignedIn;

beforeAll(async () => {
  ctx = await buildTestApp();
  superAdmin = await signInWith(ctx, 'super_admin');
  policyholder = await signInWith(ctx, 'policyholder');
});
afterAll(() => ctx.close());

type Headers = Record<string, string>;
const api = (method: 'GET' | 'POST' | 'PUT', url: string, who: SignedIn | null, payload?: unknown, headers: Headers = {}) =>
  ctx.app.inject({ method, url: `/api/v1${url}`, headers: { ...who?.headers, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

const create = (body: Record<string, unknown>, who: SignedIn = superAdmin) => api('POST', '/regions', who, body);

describe('the region tree', () => {
  let india: { id: string };
  let maharashtra: { id: string };

  beforeAll(async () => {
    india = (await create({ code: 'in', name: 'India' })).json();
    maharashtra = (await create({ code: 'MH', name: 'Maharashtra', parent_id: india.id })).json();
  });

  it('a super_admin creates regions; the path is the parent path plus the upper-cased code', async () => {
    expect(india).toMatchObject({ code: 'IN', name: 'India', parent_id: null, path: 'IN/' });
    expect(maharashtra).toMatchObject({ code: 'MH', parent_id: india.id, path: 'IN/MH/' });
    const pune = await create({ code: 'PUNE', name: 'Pune', parent_id: maharashtra.id });
    expect(pune.statusCode).toBe(201);
    expect(pune.headers.etag).toBe('W/"1"');
    expect(pune.json().path).toBe('IN/MH/PUNE/');
  });

  it('refuses a taken code (any case) with 409 CODE_TAKEN', async () => {
    const response = await create({ code: 'mh', name: 'Another' });
    expect([response.statusCode, response.json().code]).toEqual([409, 'CODE_TAKEN']);
  });

  it('refuses an unknown parent, a code with a slash and unknown fields with 422', async () => {
    expect((await create({ code: 'GJ', name: 'Gujarat', parent_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12' })).json().errors[0].path).toBe('/parent_id');
    expect((await create({ code: 'G/J', name: 'Gujarat' })).statusCode).toBe(422);
    expect((await create({ code: 'GJ', name: 'Gujarat', path: 'X/' })).statusCode).toBe(422);
  });

  it('only a super_admin creates or renames regions', async () => {
    const provider = await insertProvider(ctx);
    const admin = await signInWith(ctx, 'provider_admin', { providerId: provider });
    const manager = await signInWith(ctx, 'regional_manager', { regionId: maharashtra.id });
    for (const who of [admin, manager, policyholder]) {
      expect((await create({ code: 'KA', name: 'Karnataka' }, who)).statusCode).toBe(403);
      expect((await api('PUT', `/regions/${india.id}`, who, { name: 'Bharat' })).statusCode).toBe(403);
    }
  });

  it('any signed-in user lists regions in tree order, filtered by parent, page by page', async () => {
    const all = await api('GET', '/regions?limit=100', policyholder);
    expect(all.json().items.map((r: { path: string }) => r.path)).toEqual(['IN/', 'IN/MH/', 'IN/MH/PUNE/']);
    const children = await api('GET', `/regions?parent_id=${india.id}`, policyholder);
    expect(children.json().items.map((r: { code: string }) => r.code)).toEqual(['MH']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json(): { items: Array<{ id: string }>; next_cursor: string | null } } = await api('GET', `/regions?limit=1${cursor ? `&cursor=${cursor}` : ''}`, policyholder);
      seen.push(...page.json().items.map((r) => r.id));
      cursor = page.json().next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.json().items.map((r: { id: string }) => r.id));
    expect((await api('GET', '/regions', null)).statusCode).toBe(401);
  });

  it('reads one region with an ETag, and 304 while the client copy is current', async () => {
    const read = await api('GET', `/regions/${india.id}`, policyholder);
    expect([read.statusCode, read.headers.etag]).toEqual([200, 'W/"1"']);
    expect((await api('GET', `/regions/${india.id}`, policyholder, undefined, { 'if-none-match': 'W/"1"' })).statusCode).toBe(304);
    expect((await api('GET', '/regions/01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12', policyholder)).statusCode).toBe(404);
  });

  it('renames a region under If-Match; a stale one answers 412; code and parent cannot change', async () => {
    const renamed = await api('PUT', `/regions/${maharashtra.id}`, superAdmin, { name: 'Maharashtra State' }, { 'if-match': 'W/"1"' });
    expect([renamed.statusCode, renamed.headers.etag, renamed.json().name]).toEqual([200, 'W/"2"', 'Maharashtra State']);
    const stale = await api('PUT', `/regions/${maharashtra.id}`, superAdmin, { name: 'Lost' }, { 'if-match': 'W/"1"' });
    expect([stale.statusCode, stale.json().code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await api('PUT', `/regions/${maharashtra.id}`, superAdmin, { name: 'X', code: 'MAH' })).statusCode).toBe(422);
    const audit = await api('GET', `/audit-events?entity_type=region&entity_id=${maharashtra.id}`, superAdmin);
    expect(audit.json().items.map((e: { action: string }) => e.action)).toEqual(['region.updated', 'region.created']);
  });
});
