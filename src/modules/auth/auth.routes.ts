import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { toIso } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { NoContentSchema, problems, UuidSchema } from '../../shared/schemas.js';
import { permissionsOf } from '../rbac/rbac.permissions.js';
import { toUserResponse } from '../users/users.schemas.js';
import * as s from './auth.schemas.js';

const bearer = [{ bearerAuth: [] }];
/** Routes that guess-able secrets pass through get the stricter auth rate limit. */
const authLimited = { rateLimitScope: 'auth' } as const;

const authRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { auth } = services;

  app.post('/auth/register', {
    config: authLimited,
    schema: {
      tags: ['auth'], summary: 'Register with phone and password; an OTP verifies the phone',
      body: s.RegisterBodySchema, response: { 201: s.RegisterResponseSchema, ...problems(409, 422, 429, 503) },
    },
  }, async (request, reply) => reply.code(201).send(await auth.register(request.body, request.auditContext())));

  app.post('/auth/login', {
    config: authLimited,
    schema: {
      tags: ['auth'], summary: 'Sign in by password (phone or email), agent code, or OTP',
      description: 'Unknown users and wrong passwords get the same 401. After LOGIN_MAX_FAILURES failures the identifier is locked (423).',
      body: s.LoginBodySchema, response: { 200: s.TokenPairSchema, 202: s.OtpAcceptedSchema, ...problems(401, 403, 422, 423, 429, 503) },
    },
  }, async (request, reply) => {
    const result = await auth.login(request.body, request.auditContext());
    return 'otp' in result ? reply.code(202).send(result) : result;
  });

  app.post('/auth/otp', {
    config: authLimited,
    schema: {
      tags: ['auth'], summary: 'Send a one-time code', description: 'The same answer whether or not the phone is registered.',
      body: s.OtpRequestBodySchema, response: { 202: s.OtpAcceptedSchema, ...problems(422, 429, 503) },
    },
  }, async (request, reply) => reply.code(202).send({ otp: await auth.requestOtp(request.body.phone_number, request.body.purpose, request.ip) }));

  app.post('/auth/verify-otp', {
    config: authLimited,
    schema: {
      tags: ['auth'], summary: 'Verify a one-time code', description: 'register and login: a token pair; reset_password: a reset token. A login or reset code proves the phone of an account an administrator created (phone_verified becomes true); a policyholder\'s password set before then is dropped and its sessions end.',
      body: s.VerifyOtpBodySchema, response: { 200: Type.Union([s.TokenPairSchema, s.ResetTokenSchema]), ...problems(401, 403, 422, 429) },
    },
  }, async (request) => auth.verifyOtp(request.body, request.auditContext()));

  app.post('/auth/refresh', {
    config: authLimited,
    schema: {
      tags: ['auth'], summary: 'Exchange a refresh token for a new pair', description: 'The old refresh token is spent; presenting it again ends the session.',
      body: s.RefreshBodySchema, response: { 200: s.TokenPairSchema, ...problems(401, 422, 429) },
    },
  }, async (request) => auth.refresh(request.body.refresh_token, request.auditContext()));

  app.post('/auth/logout', {
    preHandler: app.authenticate,
    schema: {
      tags: ['auth'], summary: 'End this session (or all)', security: bearer,
      // A missing body arrives as null; a client may send none at all.
      body: Type.Union([s.LogoutBodySchema, Type.Null()]), response: { 204: NoContentSchema, ...problems(401) },
    },
  }, async (request, reply) => {
    const me = request.requirePrincipal();
    const filter = request.body?.all_sessions ? {} : { only: me.sessionId };
    await auth.endSessions(me.userId, 'logout', request.auditContext(), filter, 'auth.logout');
    return reply.code(204).send(null);
  });

  app.get('/auth/sessions', {
    preHandler: app.authenticate,
    schema: { tags: ['auth'], summary: 'My live sessions', security: bearer, response: { 200: s.SessionListSchema, ...problems(401) } },
  }, async (request) => {
    const me = request.requirePrincipal();
    const rows = await auth.listSessions(me.userId, me.sessionId);
    return {
      items: rows.map((r) => ({ session_id: r.id, created_at: toIso(r.created_at), last_used_at: toIso(r.last_used_at), ip_address: r.ip_address, user_agent: r.user_agent, current: r.current })),
    };
  });

  app.delete('/auth/sessions/:session_id', {
    preHandler: app.authenticate,
    schema: {
      tags: ['auth'], summary: 'End one of my sessions', security: bearer,
      params: Type.Object({ session_id: UuidSchema }, { additionalProperties: false }), response: { 204: NoContentSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const me = request.requirePrincipal();
    const ended = await auth.endSessions(me.userId, 'ended_by_user', request.auditContext(), { only: request.params.session_id });
    if (ended.length === 0) throw new AppError('NOT_FOUND', 404, 'Session not found.');
    return reply.code(204).send(null);
  });

  app.delete('/auth/sessions', {
    preHandler: app.authenticate,
    schema: { tags: ['auth'], summary: 'End every session but this one', security: bearer, response: { 204: NoContentSchema, ...problems(401) } },
  }, async (request, reply) => {
    const me = request.requirePrincipal();
    await auth.endSessions(me.userId, 'ended_by_user', request.auditContext(), { except: me.sessionId });
    return reply.code(204).send(null);
  });

  app.get('/auth/me', {
    preHandler: app.authenticate,
    schema: { tags: ['auth'], summary: 'Who am I: user, role and effective permissions', security: bearer, response: { 200: s.MeSchema, ...problems(401) } },
  }, async (request) => {
    const me = request.requirePrincipal();
    const user = await services.users.getSelf(me.userId);
    return { user: toUserResponse(user), role: user.role, permissions: permissionsOf(user.role) };
  });

  app.post('/auth/password', {
    preHandler: app.authenticate,
    schema: {
      tags: ['auth'], summary: 'Change my password; ends my other sessions', security: bearer,
      body: s.ChangePasswordBodySchema, response: { 204: NoContentSchema, ...problems(401, 422) },
    },
  }, async (request, reply) => {
    const me = request.requirePrincipal();
    await auth.changePassword(me.userId, me.sessionId, request.body, request.auditContext());
    return reply.code(204).send(null);
  });

  app.post('/auth/password/reset', {
    config: authLimited,
    schema: {
      tags: ['auth'], summary: 'Set a new password with a reset token; ends all sessions',
      body: s.ResetPasswordBodySchema, response: { 204: NoContentSchema, ...problems(401, 422, 429) },
    },
  }, async (request, reply) => {
    await auth.resetPassword(request.body, request.auditContext());
    return reply.code(204).send(null);
  });
};

export default authRoutes;
