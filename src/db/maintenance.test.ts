import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, type TestContext } from '../../test/helpers/app.js';
import { newId } from '../shared/ids.js';
import { purgeExpired } from './maintenance.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

describe('purging expired rows', () => {
  it('deletes codes, tokens, idempotency keys and throttles past their grace, and keeps the live ones', async () => {
    const db = ctx.database.db;
    const now = new Date('2026-11-25T12:00:00Z');
    const old = new Date('2026-11-20T12:00:00Z');
    const fresh = new Date('2026-11-25T11:59:00Z');
    const user = await createUser(ctx, 'policyholder');
    for (const [id, at] of [[newId(), old], [newId(), fresh]] as const) {
      await db.insertInto('otp_codes').values({ id, phone_number: '+919800000099', purpose: 'login', code_hmac: 'x', created_at: at, expires_at: at }).execute();
    }
    await db.insertInto('idempotency_keys').values([
      { user_id: user.id, key: 'old-key-123', method: 'POST', path: '/x', request_hash: 'h', created_at: old },
      { user_id: user.id, key: 'new-key-123', method: 'POST', path: '/x', request_hash: 'h', created_at: fresh },
    ]).execute();
    await db.insertInto('login_throttles').values([
      { identifier: 'phone:old', failures: 2, locked_until: null, updated_at: old },
      { identifier: 'phone:locked', failures: 5, locked_until: new Date('2026-11-26T00:00:00Z'), updated_at: old },
    ]).execute();
    const report = await purgeExpired(db, now);
    expect(report).toMatchObject({ otp_codes: 1, idempotency_keys: 1, login_throttles: 1 });
    expect(await db.selectFrom('otp_codes').select('id').where('phone_number', '=', '+919800000099').execute()).toHaveLength(1);
    expect((await db.selectFrom('login_throttles').select('identifier').execute()).map((r) => r.identifier)).toContain('phone:locked');
  });
});
