import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, nextPhone, signIn, TEST_PASSWORD, type TestContext } from '../../../test/helpers/app.js';
import * as repo from './auth.repository.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_S: '900', OTP_MAX_ATTEMPTS: '3', OTP_MAX_FAILURES_PER_HOUR: '6' } });
});
afterAll(() => ctx.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: `/api/v1${url}`, payload: payload as object, headers });

async function register(phone = nextPhone(), extra: Record<string, unknown> = {}) {
  const response = await post('/auth/register', { phone_number: phone, full_name: 'Asha Verma', password: TEST_PASSWORD, ...extra });
  return { response, phone };
}

describe('registration', () => {
  it('creates a pending account, sends a register code, and answers 201 with the OTP ticket', async () => {
    const local = `98${String(Date.now()).slice(-8)}`;
    const { response } = await register(local);
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(body.user).toMatchObject({ phone_number: `+91${local}`, status: 'pending_verification', role: 'policyholder', phone_verified: false });
    expect(body.otp).toEqual({ expires_in: 300, resend_after: 30 });
    expect(body.user).not.toHaveProperty('password_hash');
    expect(ctx.sms.lastCodeFor(`+91${local}`, 'register')).toMatch(/^\d{6}$/);
  });

  it('accepts the phone in common written forms and returns E.164', async () => {
    const { response } = await register('+91 98111 22334');
    expect(response.json().user.phone_number).toBe('+919811122334');
  });

  it('refuses a duplicate phone with 409 PHONE_TAKEN', async () => {
    const { phone } = await register();
    const again = await register(phone);
    expect(again.response.statusCode).toBe(409);
    expect(again.response.json().code).toBe('PHONE_TAKEN');
  });

  it('refuses common and guessable passwords with 422 WEAK_PASSWORD, and short ones by schema', async () => {
    for (const password of ['password123', 'qwertyuiop', '12345678910']) {
      const { response } = await register(nextPhone(), { password });
      expect(response.statusCode, password).toBe(422);
      expect(response.json().code).toBe('WEAK_PASSWORD');
    }
    const short = await register(nextPhone(), { password: 'short' });
    expect(short.response.statusCode).toBe(422);
    expect(short.response.json().code).toBe('VALIDATION_FAILED');
  });

  it('accepts a long passphrase with spaces and no composition rules', async () => {
    const { response } = await register(nextPhone(), { password: 'monsoon tea on the western ghats' });
    expect(response.statusCode).toBe(201);
  });

  it('refuses an invalid phone number with a 422 naming the field', async () => {
    const { response } = await register('12345');
    expect(response.statusCode).toBe(422);
    expect(response.json().errors[0].path).toBe('/phone_number');
  });

  it('an unverified account cannot sign in until the phone is verified', async () => {
    const { phone } = await register();
    const login = await post('/auth/login', { method: 'password', phone_number: phone, password: TEST_PASSWORD });
    expect(login.statusCode).toBe(403);
    expect(login.json().code).toBe('PHONE_NOT_VERIFIED');
  });

  it('verifying the register code activates the account and returns a token pair', async () => {
    const { phone } = await register();
    const code = ctx.sms.lastCodeFor(phone, 'register')!;
    const verified = await post('/auth/verify-otp', { phone_number: phone, code, purpose: 'register' });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ token_type: 'Bearer', expires_in: 900, user: { status: 'active', phone_verified: true } });
    const login = await post('/auth/login', { method: 'password', phone_number: phone, password: TEST_PASSWORD });
    expect(login.statusCode).toBe(200);
  });
});

describe('one-time codes', () => {
  it('a code is single use', async () => {
    const { phone } = await register();
    const code = ctx.sms.lastCodeFor(phone, 'register')!;
    expect((await post('/auth/verify-otp', { phone_number: phone, code, purpose: 'register' })).statusCode).toBe(200);
    const again = await post('/auth/verify-otp', { phone_number: phone, code, purpose: 'register' });
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe('INVALID_OTP');
  });

  it('a register code never serves login (purpose-bound)', async () => {
    const { phone } = await register();
    const code = ctx.sms.lastCodeFor(phone, 'register')!;
    const wrongPurpose = await post('/auth/verify-otp', { phone_number: phone, code, purpose: 'login' });
    expect(wrongPurpose.statusCode).toBe(401);
  });

  it('a code dies after OTP_MAX_ATTEMPTS wrong tries, even if the right code comes next', async () => {
    const { phone } = await register();
    const code = ctx.sms.lastCodeFor(phone, 'register')!;
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) expect((await post('/auth/verify-otp', { phone_number: phone, code: wrong, purpose: 'register' })).statusCode).toBe(401);
    expect((await post('/auth/verify-otp', { phone_number: phone, code, purpose: 'register' })).statusCode).toBe(401);
  });

  it('an expired code is refused', async () => {
    const { phone } = await register();
    const code = ctx.sms.lastCodeFor(phone, 'register')!;
    ctx.clock.advance(301_000);
    const late = await post('/auth/verify-otp', { phone_number: phone, code, purpose: 'register' });
    ctx.clock.advance(-301_000);
    expect(late.statusCode).toBe(401);
    expect(late.json().code).toBe('INVALID_OTP');
  });

  it('a second code inside the resend cooldown gets 429 with Retry-After', async () => {
    const { phone } = await register();
    const again = await post('/auth/otp', { phone_number: phone, purpose: 'register' });
    expect(again.statusCode).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('the hourly cap on wrong codes holds across new codes', async () => {
    const user = await createUser(ctx, 'policyholder');
    const wrongs = async () => {
      for (let i = 0; i < 3; i++) await post('/auth/verify-otp', { phone_number: user.phone, code: '999999', purpose: 'login' });
    };
    await post('/auth/otp', { phone_number: user.phone, purpose: 'login' });
    await wrongs();
    ctx.clock.advance(31_000);
    await post('/auth/otp', { phone_number: user.phone, purpose: 'login' });
    await wrongs();
    ctx.clock.advance(31_000);
    await post('/auth/otp', { phone_number: user.phone, purpose: 'login' });
    const code = ctx.sms.lastCodeFor(user.phone, 'login')!;
    const capped = await post('/auth/verify-otp', { phone_number: user.phone, code, purpose: 'login' });
    expect(capped.statusCode).toBe(429);
    expect(capped.json().code).toBe('RATE_LIMITED');
  });

  it('answers the same for registered and unknown phones, and texts only the registered one', async () => {
    const user = await createUser(ctx, 'policyholder');
    const unknown = nextPhone();
    const sentBefore = ctx.sms.sent.length;
    const known = await post('/auth/otp', { phone_number: user.phone, purpose: 'login' });
    const stranger = await post('/auth/otp', { phone_number: unknown, purpose: 'login' });
    expect(known.statusCode).toBe(202);
    expect(stranger.statusCode).toBe(202);
    expect(known.json()).toEqual(stranger.json());
    expect(ctx.sms.sent.slice(sentBefore).map((m) => m.to)).toEqual([user.phone]);
    const strangerAgain = await post('/auth/otp', { phone_number: unknown, purpose: 'login' });
    expect(strangerAgain.statusCode).toBe(429);
  });

  it('every SMS is exactly {to, purpose, text} with the code in the text', async () => {
    const { phone } = await register();
    const message = ctx.sms.sent.find((m) => m.to === phone)!;
    expect(Object.keys(message).sort()).toEqual(['purpose', 'text', 'to']);
    expect(message.text).toMatch(/\b\d{6}\b/);
  });

  it('signs in with an OTP: login method otp answers 202, verify-otp gives the pair', async () => {
    const user = await createUser(ctx, 'policyholder');
    const started = await post('/auth/login', { method: 'otp', phone_number: user.phone });
    expect(started.statusCode).toBe(202);
    const code = ctx.sms.lastCodeFor(user.phone, 'login')!;
    const verified = await post('/auth/verify-otp', { phone_number: user.phone, code, purpose: 'login' });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user.id).toBe(user.id);
  });

  it('a failing SMS gateway gives a generic 503, not a 500', async () => {
    ctx.sms.failing = true;
    const { response } = await register();
    ctx.sms.failing = false;
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('SMS_UNAVAILABLE');
  });
});

describe('password sign-in', () => {
  it('signs in by phone, by email, and by agent code', async () => {
    const email = `kavya.${Date.now()}@example.in`;
    const user = await createUser(ctx, 'junior_agent', { email });
    expect((await post('/auth/login', { method: 'password', phone_number: user.phone, password: TEST_PASSWORD })).statusCode).toBe(200);
    expect((await post('/auth/login', { method: 'password', email: email.toUpperCase(), password: TEST_PASSWORD })).statusCode).toBe(200);
    const code = `AG-IN-${String(Date.now()).slice(-6)}`;
    await ctx.database.db.insertInto('agents').values({
      id: crypto.randomUUID(), user_id: user.id, agent_code: code, status: 'active', license_number: 'LIC-12345', license_expiry: '2030-01-01', pan: 'ABCPE1234F',
    }).execute();
    const byCode = await post('/auth/login', { method: 'agent_code', agent_code: code.toLowerCase(), password: TEST_PASSWORD });
    expect(byCode.statusCode).toBe(200);
    expect(byCode.json().user.id).toBe(user.id);
  });

  it('unknown user and wrong password give the same 401 INVALID_CREDENTIALS', async () => {
    const user = await createUser(ctx, 'policyholder');
    const wrong = await post('/auth/login', { method: 'password', phone_number: user.phone, password: 'not the password at all' });
    const unknown = await post('/auth/login', { method: 'password', phone_number: nextPhone(), password: 'not the password at all' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
  });

  it('locks an identifier after LOGIN_MAX_FAILURES failures with 423 and Retry-After, even with the right password', async () => {
    const user = await createUser(ctx, 'policyholder');
    for (let i = 0; i < 3; i++) {
      expect((await post('/auth/login', { method: 'password', phone_number: user.phone, password: 'wrong password here' })).statusCode).toBe(401);
    }
    const locked = await post('/auth/login', { method: 'password', phone_number: user.phone, password: TEST_PASSWORD });
    expect(locked.statusCode).toBe(423);
    expect(locked.json().code).toBe('ACCOUNT_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
    const row = await ctx.database.db.selectFrom('users').select(['failed_login_attempts', 'account_locked_until']).where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.failed_login_attempts).toBe(3);
    expect(row.account_locked_until).not.toBeNull();
    ctx.clock.advance(901_000);
    const afterLock = await post('/auth/login', { method: 'password', phone_number: user.phone, password: TEST_PASSWORD });
    ctx.clock.advance(-901_000);
    expect(afterLock.statusCode).toBe(200);
  });

  it('locks identifiers that do not exist the same way (no enumeration through the lock)', async () => {
    const ghost = nextPhone();
    for (let i = 0; i < 3; i++) await post('/auth/login', { method: 'password', phone_number: ghost, password: 'whatever it is' });
    const locked = await post('/auth/login', { method: 'password', phone_number: ghost, password: 'whatever it is' });
    expect(locked.statusCode).toBe(423);
  });

  it('a success resets the failure count', async () => {
    const user = await createUser(ctx, 'policyholder');
    for (let i = 0; i < 2; i++) await post('/auth/login', { method: 'password', phone_number: user.phone, password: 'wrong password here' });
    await signIn(ctx, user.phone);
    for (let i = 0; i < 2; i++) await post('/auth/login', { method: 'password', phone_number: user.phone, password: 'wrong password here' });
    expect((await post('/auth/login', { method: 'password', phone_number: user.phone, password: TEST_PASSWORD })).statusCode).toBe(200);
  });

  it('records last_login_at and writes sign-in success and failure to the audit trail', async () => {
    const user = await createUser(ctx, 'policyholder');
    await post('/auth/login', { method: 'password', phone_number: user.phone, password: 'wrong password here' });
    await signIn(ctx, user.phone);
    const events = await ctx.database.db.selectFrom('audit_events').select(['action', 'entity_id', 'actor_id']).where('entity_id', '=', user.id).execute();
    expect(events.map((e) => e.action)).toContain('auth.login_failed');
    const logins = await ctx.database.db.selectFrom('audit_events').select('action').where('actor_id', '=', user.id).where('action', '=', 'auth.login').execute();
    expect(logins).toHaveLength(1);
    const row = await ctx.database.db.selectFrom('users').select('last_login_at').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.last_login_at).not.toBeNull();
  });

  it('rehashes a password stored with old argon2 parameters on the next sign-in', async () => {
    const { hash } = await import('@node-rs/argon2');
    const user = await createUser(ctx, 'policyholder');
    const weak = await hash(TEST_PASSWORD, { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await ctx.database.db.updateTable('users').set({ password_hash: weak }).where('id', '=', user.id).execute();
    await signIn(ctx, user.phone);
    const row = await ctx.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toContain('m=19456,t=2,p=1');
  });

  it('stores passwords only as argon2id hashes', async () => {
    const user = await createUser(ctx, 'policyholder');
    const row = await ctx.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row.password_hash).not.toContain(TEST_PASSWORD);
  });

  it('suspended and deleted accounts cannot sign in; deleted looks unknown', async () => {
    const suspended = await createUser(ctx, 'policyholder');
    const deleted = await createUser(ctx, 'policyholder');
    await ctx.database.db.updateTable('users').set({ status: 'suspended' }).where('id', '=', suspended.id).execute();
    await ctx.database.db.updateTable('users').set({ status: 'deleted' }).where('id', '=', deleted.id).execute();
    expect((await post('/auth/login', { method: 'password', phone_number: suspended.phone, password: TEST_PASSWORD })).json().code).toBe('ACCOUNT_DISABLED');
    const gone = await post('/auth/login', { method: 'password', phone_number: deleted.phone, password: TEST_PASSWORD });
    expect(gone.statusCode).toBe(401);
    expect(gone.json().code).toBe('INVALID_CREDENTIALS');
  });
});

describe('overload', () => {
  it('past the hashing queue, sign-ins get 503 with Retry-After and none counts as a failed attempt', async () => {
    const full = await buildTestApp({ env: { HASH_CONCURRENCY: '1', HASH_QUEUE_MAX: '0', HASH_SHED_DELAY_MS: '300' } });
    const user = await createUser(full, 'policyholder');
    const attempt = async () => {
      const started = performance.now();
      const answer = await full.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: user.phone, password: TEST_PASSWORD } });
      return Object.assign(answer, { waitedMs: performance.now() - started });
    };
    const answers = await Promise.all([attempt(), attempt(), attempt()]);
    // A refusal is held back, so a client retrying at once cannot spin.
    for (const refusal of answers.filter((a) => a.statusCode === 503)) expect(refusal.waitedMs).toBeGreaterThanOrEqual(250);
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses[0]).toBe(200);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    const refused = answers.find((a) => a.statusCode === 503)!;
    expect(refused.headers['retry-after']).toBe('2');
    const throttle = await full.database.db.selectFrom('login_throttles').selectAll().execute();
    expect(throttle).toHaveLength(0);
    await full.close();
  });

  it('a sign-in holds its place in line from admission, so past the bound the next is refused before any I/O', async () => {
    const { PasswordHasher } = await import('./auth.passwords.js');
    const hasher = new PasswordHasher(1, 1);
    const ticket = hasher.admit();
    const running = hasher.hash('a long enough password');
    expect(() => hasher.admit()).toThrow(/Too many sign-ins/);
    // The admitted sign-in's own verify needs no second place.
    expect(await hasher.verify(await running, 'a long enough password', ticket)).toBe(true);
    ticket.release();
    ticket.release(); // releasing twice frees one place, not two
    const places = [hasher.admit(), hasher.admit()];
    expect(() => hasher.admit()).toThrow(/Too many sign-ins/);
    for (const place of places) place.release();
  });
});

describe('one-time codes, two in one instant', () => {
  it('the newer is the latest and the older is closed, even with equal creation times', async () => {
    const phone = nextPhone();
    const at = new Date('2026-11-25T10:00:00Z');
    const expires = new Date(at.getTime() + 300_000);
    const code = (id: string, mac: string) => ({ id, phone_number: phone, purpose: 'login' as const, code_hmac: mac, created_at: at, expires_at: expires });
    await repo.insertOtp(ctx.database.db, code('01a215fb-0000-7000-8000-000000000002', 'first'));
    await repo.insertOtp(ctx.database.db, code('01a215fb-0000-7000-8000-000000000001', 'second'));
    expect((await repo.findLatestOtp(ctx.database.db, phone, 'login'))?.code_hmac).toBe('second');
    const first = await ctx.database.db.selectFrom('otp_codes').select('expires_at').where('code_hmac', '=', 'first').executeTakeFirstOrThrow();
    expect(first.expires_at.getTime()).toBe(at.getTime());
  });
});
