import { generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, signIn, type SignedIn, type TestContext } from '../../../test/helpers/app.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const me = (token: string) => ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
const refresh = (refreshToken: string) => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: refreshToken } });
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function freshUser(): Promise<SignedIn> {
  const user = await createUser(ctx, 'policyholder');
  return signIn(ctx, user.phone);
}

describe('access tokens', () => {
  it('carry the contract claims and a kid that the JWKS publishes', async () => {
    const session = await freshUser();
    const claims = decodeJwt(session.accessToken);
    const header = decodeProtectedHeader(session.accessToken);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'phone_number', 'role', 'sid', 'sub', 'type']);
    expect(claims).toMatchObject({ sub: session.userId, sid: session.sessionId, type: 'access', role: 'policyholder', phone_number: session.phone });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    const jwks = (await ctx.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(header.kid);
    expect(jwks.keys.every((k: Record<string, unknown>) => !('d' in k))).toBe(true);
  });

  it('GET /auth/me returns the user, role and effective permissions', async () => {
    const session = await freshUser();
    const response = await me(session.accessToken);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ user: { id: session.userId }, role: 'policyholder', permissions: ['policy.read', 'profile.*'] });
  });

  it('a missing or malformed Authorization header is 401', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me' })).json().code).toBe('UNAUTHENTICATED');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
  });

  it('refuses alg none', async () => {
    const session = await freshUser();
    const [header, payload] = session.accessToken.split('.');
    const forged = `${b64({ ...JSON.parse(Buffer.from(header!, 'base64url').toString()), alg: 'none' })}.${payload}.`;
    expect((await me(forged)).statusCode).toBe(401);
  });

  it('refuses a tampered payload', async () => {
    const session = await freshUser();
    const [header, payload, signature] = session.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${header}.${b64({ ...claims, role: 'super_admin' })}.${signature}`;
    const response = await me(forged);
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('INVALID_TOKEN');
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const session = await freshUser();
    const claims = decodeJwt(session.accessToken);
    const publicJwk = ctx.keys.jwks.keys[0]!;
    for (const secret of [JSON.stringify(publicJwk), Buffer.from(publicJwk.x!, 'base64url')]) {
      const head = b64({ alg: 'HS256', typ: 'at+jwt', kid: publicJwk.kid });
      const body = b64({ ...claims, role: 'super_admin' });
      const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
      expect((await me(`${head}.${body}.${sig}`)).statusCode).toBe(401);
    }
  });

  it('refuses a token signed by another Ed25519 key under our kid', async () => {
    const session = await freshUser();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const claims = decodeJwt(session.accessToken);
    const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: ctx.keys.signing.kid }).sign(privateKey);
    expect((await me(forged)).statusCode).toBe(401);
  });

  it('refuses our own signature on a token of another type, issuer or audience', async () => {
    const session = await freshUser();
    const claims = decodeJwt(session.accessToken);
    const sign = (payload: object, typ = 'at+jwt') =>
      new SignJWT({ ...payload }).setProtectedHeader({ alg: 'EdDSA', typ, kid: ctx.keys.signing.kid }).sign(ctx.keys.signing.key);
    expect((await me(await sign({ ...claims, type: 'refresh' }))).statusCode).toBe(401);
    expect((await me(await sign(claims, 'JWT'))).statusCode).toBe(401);
    expect((await me(await sign({ ...claims, iss: 'someone-else' }))).statusCode).toBe(401);
    expect((await me(await sign({ ...claims, aud: 'another-app' }))).statusCode).toBe(401);
    const { exp: _exp, ...noExp } = claims;
    expect((await me(await sign(noExp))).statusCode).toBe(401);
  });

  it('an expired access token answers 401 TOKEN_EXPIRED', async () => {
    const session = await freshUser();
    ctx.clock.advance(16 * 60_000);
    const response = await me(session.accessToken);
    ctx.clock.advance(-16 * 60_000);
    expect(response.statusCode).toBe(401);
    expect(response.json().code).toBe('TOKEN_EXPIRED');
  });

  it('a refresh token never works as an access token, nor the reverse', async () => {
    const session = await freshUser();
    expect((await me(session.refreshToken)).statusCode).toBe(401);
    const swapped = await refresh(session.accessToken);
    expect(swapped.statusCode).toBe(401);
  });
});

describe('refresh and sessions', () => {
  it('refresh rotates: the new pair works and the old refresh token is spent', async () => {
    const session = await freshUser();
    const rotated = await refresh(session.refreshToken);
    expect(rotated.statusCode).toBe(200);
    const pair = rotated.json();
    expect(pair.refresh_token).not.toBe(session.refreshToken);
    expect(pair.session_id).toBe(session.sessionId);
    expect((await me(pair.access_token)).statusCode).toBe(200);
  });

  it('refresh token reuse revokes the session: both pairs stop working', async () => {
    const session = await freshUser();
    const second = (await refresh(session.refreshToken)).json();
    const reuse = await refresh(session.refreshToken);
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe('REFRESH_TOKEN_REUSED');
    expect((await refresh(second.refresh_token)).statusCode).toBe(401);
    expect((await me(second.access_token)).statusCode).toBe(401);
    expect((await me(session.accessToken)).json().code).toBe('SESSION_REVOKED');
    const audit = await ctx.database.db.selectFrom('audit_events').select('action').where('entity_id', '=', session.userId).where('action', '=', 'auth.refresh_reuse').execute();
    expect(audit).toHaveLength(1);
  });

  it('two racing refreshes with one token: exactly one wins', async () => {
    const session = await freshUser();
    const results = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
  });

  it('logout stops the access and refresh tokens of the session at once', async () => {
    const session = await freshUser();
    const out = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: session.headers, payload: {} });
    expect(out.statusCode).toBe(204);
    expect((await me(session.accessToken)).statusCode).toBe(401);
    expect((await refresh(session.refreshToken)).statusCode).toBe(401);
  });

  it('logout with all_sessions ends every session of the user', async () => {
    const user = await createUser(ctx, 'policyholder');
    const a = await signIn(ctx, user.phone);
    const b = await signIn(ctx, user.phone);
    await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: a.headers, payload: { all_sessions: true } });
    expect((await me(a.accessToken)).statusCode).toBe(401);
    expect((await me(b.accessToken)).statusCode).toBe(401);
  });

  it('lists sessions with the current one marked, ends one, and ends all others', async () => {
    const user = await createUser(ctx, 'policyholder');
    const a = await signIn(ctx, user.phone);
    const b = await signIn(ctx, user.phone);
    const c = await signIn(ctx, user.phone);
    const list = (await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: a.headers })).json();
    expect(list.items).toHaveLength(3);
    expect(list.items.filter((s: { current: boolean }) => s.current).map((s: { session_id: string }) => s.session_id)).toEqual([a.sessionId]);
    expect((await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${b.sessionId}`, headers: a.headers })).statusCode).toBe(204);
    expect((await me(b.accessToken)).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'DELETE', url: '/api/v1/auth/sessions', headers: a.headers })).statusCode).toBe(204);
    expect((await me(c.accessToken)).statusCode).toBe(401);
    expect((await me(a.accessToken)).statusCode).toBe(200);
  });

  it("another user's session id answers 404 and stays alive", async () => {
    const mine = await freshUser();
    const theirs = await freshUser();
    const response = await ctx.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${theirs.sessionId}`, headers: mine.headers });
    expect(response.statusCode).toBe(404);
    expect((await me(theirs.accessToken)).statusCode).toBe(200);
  });
});

describe('passwords', () => {
  it('changing the password ends the other sessions but keeps this one', async () => {
    const user = await createUser(ctx, 'policyholder');
    const a = await signIn(ctx, user.phone);
    const b = await signIn(ctx, user.phone);
    const changed = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: a.headers, payload: { current_password: 'correct horse battery staple 42', new_password: 'a brand new river stone path' } });
    expect(changed.statusCode).toBe(204);
    expect((await me(a.accessToken)).statusCode).toBe(200);
    expect((await me(b.accessToken)).statusCode).toBe(401);
    await signIn(ctx, user.phone, 'a brand new river stone path');
  });

  it('a wrong current password is refused and changes nothing', async () => {
    const session = await freshUser();
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: session.headers, payload: { current_password: 'not my password', new_password: 'a brand new river stone path' } });
    expect(response.statusCode).toBe(422);
    await signIn(ctx, session.phone);
  });

  it('reset through an OTP: single-use reset token, new password works, all sessions end', async () => {
    const user = await createUser(ctx, 'policyholder');
    const old = await signIn(ctx, user.phone);
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/otp', payload: { phone_number: user.phone, purpose: 'reset_password' } })).statusCode).toBe(202);
    const code = ctx.sms.lastCodeFor(user.phone, 'reset_password')!;
    const verified = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', payload: { phone_number: user.phone, code, purpose: 'reset_password' } });
    const { reset_token } = verified.json();
    expect(reset_token).toBeTypeOf('string');
    const reset = (password: string) => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/password/reset', payload: { reset_token, new_password: password } });
    expect((await reset('quiet lanterns over varanasi')).statusCode).toBe(204);
    expect((await me(old.accessToken)).statusCode).toBe(401);
    expect((await reset('another fresh passphrase here')).statusCode).toBe(401);
    await signIn(ctx, user.phone, 'quiet lanterns over varanasi');
  });
});

describe('logout without a body', () => {
  it('ends the session just the same', async () => {
    const session = await freshUser();
    const out = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: session.headers });
    expect(out.statusCode).toBe(204);
    expect((await me(session.accessToken)).statusCode).toBe(401);
  });
});
