import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { IdempotencyHeadersSchema, IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NoContentSchema, NotModifiedSchema, problems, UuidSchema } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import * as s from './users.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['users'];
const UserParamsSchema = Type.Object({ user_id: UuidSchema }, { additionalProperties: false });

/** Accounts: administration (create, status, bulk, delete), search, and self-service reads and edits. */
const usersRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { users } = services;

  app.post('/users', {
    preHandler: app.authorize('user.create'),
    schema: {
      tags, summary: 'Create a user (administrators; roles below your own)', security: bearer,
      description: 'A provider_admin creates users of its provider, a regional_manager of its region or sub-regions. Without a password the user signs in by OTP. The phone is unproven (phone_verified false) until its owner signs in or resets by code; until then a policyholder sees no policies, and the first code drops a password set here.',
      headers: IdempotencyHeadersSchema, body: s.CreateUserBodySchema, response: { 201: s.UserSchema, ...problems(401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const result = await users.create(request.requirePrincipal(), request.body, request.auditContext(), request.headers['idempotency-key']);
    reply.header('location', `/api/v1/users/${result.body.id}`);
    if (!result.replayed) reply.header('etag', etagOf(1));
    // A replay stored the same 201 the first call gave.
    return reply.code(201).send(result.body);
  });

  app.get('/users/search', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Search the users in your scope', security: bearer,
      description: 'q matches the name, a phone prefix (digits are enough), an email prefix or an agent code. Deleted users appear only with status=deleted. Non-administrators find only themselves.',
      querystring: s.SearchQuerySchema, response: { 200: s.UserPageSchema, ...problems(401, 422) },
    },
  }, async (request) => users.search(request.requirePrincipal(), request.query));

  app.post('/users/bulk', {
    preHandler: app.authorize('user.update'),
    schema: {
      tags, summary: 'Activate, deactivate, suspend or delete many users', security: bearer,
      description: 'Each user is judged on its own: NOT_FOUND (unknown or outside your scope), FORBIDDEN (yourself, or a role not below yours) or INVALID_TRANSITION.',
      body: s.BulkBodySchema, response: { 200: s.BulkResultSchema, ...problems(401, 403, 422) },
    },
  }, async (request) => users.bulk(request.requirePrincipal(), request.body, request.auditContext()));

  app.get('/users/:user_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'A user (yourself, or one in your scope)', security: bearer,
      params: UserParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.UserSchema, 304: NotModifiedSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const row = await users.get(request.requirePrincipal(), request.params.user_id);
    return replyVersioned(request, reply, row.version, s.toUserResponse(row));
  });

  app.put('/users/:user_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Change a user (your own profile, or as an administrator)', security: bearer,
      description: 'On yourself only full_name and email; role, status, provider_id and region_id are for administrators over users below them (403 otherwise).',
      params: UserParamsSchema, headers: IfMatchHeadersSchema, body: s.UpdateUserBodySchema,
      response: { 200: s.UserSchema, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const row = await users.update(request.requirePrincipal(), request.params.user_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toUserResponse(row));
  });

  app.delete('/users/:user_id', {
    preHandler: app.authorize('user.delete'),
    schema: {
      tags, summary: 'Delete a user (soft: the record stays, sessions end, sign-in is refused)', security: bearer,
      params: UserParamsSchema, headers: IfMatchHeadersSchema, response: { 204: NoContentSchema, ...problems(401, 403, 404, 409, 412) },
    },
  }, async (request, reply) => {
    await users.remove(request.requirePrincipal(), request.params.user_id, request.headers['if-match'], request.auditContext());
    return reply.code(204).send(null);
  });

  app.put('/users/:user_id/status', {
    preHandler: app.authorize('user.update'),
    schema: {
      tags, summary: 'Activate, deactivate or suspend a user', security: bearer,
      description: 'Deactivating or suspending ends all of the user\'s sessions at once.',
      params: UserParamsSchema, headers: IfMatchHeadersSchema, body: s.UserStatusBodySchema,
      response: { 200: s.UserSchema, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const row = await users.setStatus(request.requirePrincipal(), request.params.user_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toUserResponse(row));
  });

  app.get('/users/:user_id/preferences', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Language, time zone and notification preferences', security: bearer,
      params: UserParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.PreferencesSchema, 304: NotModifiedSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const { preferences, version } = await users.getPreferences(request.requirePrincipal(), request.params.user_id);
    return replyVersioned(request, reply, version, preferences);
  });

  app.put('/users/:user_id/preferences', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Change preferences (yourself, or an administrator over a user in its scope whose role is below its own)', security: bearer,
      params: UserParamsSchema, headers: IfMatchHeadersSchema, body: s.PreferencesBodySchema,
      response: { 200: s.PreferencesSchema, ...problems(401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const { preferences, version } = await users.updatePreferences(
      request.requirePrincipal(), request.params.user_id, request.body, request.headers['if-match'], request.auditContext(),
    );
    return reply.header('etag', etagOf(version)).send(preferences);
  });
};

export default usersRoutes;
