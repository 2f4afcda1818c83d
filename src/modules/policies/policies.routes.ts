import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../container.js';
import { Type } from 'typebox';
import { IdempotencyHeadersSchema, IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NotModifiedSchema, PageSchema, problems, UuidSchema } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import { sendRendered } from '../../shared/serializer.js';
import * as s from './policies.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['policies'];
const PolicyParamsSchema = Type.Object({ policy_id: UuidSchema }, { additionalProperties: false });

const policyRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const policies = services.policies;

  app.post('/policies/quote', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Price a product for a date of birth and terms (nothing is stored)', security: bearer,
      description: 'An ineligible request answers 422 with one error per broken rule; each message starts with the rule code (ENTRY_AGE_ABOVE_MAX, ...).',
      body: s.QuoteBodySchema, response: { 200: s.QuoteSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => policies.quote(request.requirePrincipal(), request.body));

  app.post('/policies', {
    preHandler: app.authorize('policy.create'),
    schema: {
      tags, summary: 'Create a draft policy for one of my customers', security: bearer,
      description: 'The caller is the selling agent: it must be active, licensed and appointed by the product\'s provider. Honours Idempotency-Key.',
      headers: IdempotencyHeadersSchema, body: s.CreatePolicyBodySchema,
      response: { 201: s.PolicyDetailSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const result = await policies.create(request.requirePrincipal(), request.body, request.headers['idempotency-key'], request.auditContext());
    // Always 201: a replay answers with the first response, which was a 201 too.
    return reply.code(201).header('etag', etagOf(result.body.version)).header('location', `/api/v1/policies/${result.body.id}`).send(result.body);
  });

  app.get('/policies', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Policies I may see, newest first', security: bearer,
      querystring: s.PolicyListQuerySchema, response: { 200: PageSchema(s.PolicySchema), ...problems(401, 403, 422) },
    },
  }, async (request, reply) => sendRendered(reply, await policies.list(request.requirePrincipal(), request.query)));

  app.get('/policies/:policy_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'One policy with its status history', security: bearer,
      params: PolicyParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.PolicyDetailSchema, 304: NotModifiedSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const policy = await policies.get(request.requirePrincipal(), request.params.policy_id);
    const answer = replyVersioned(request, reply, policy.version, policy.body);
    return typeof answer === 'string' ? sendRendered(reply, answer) : answer;
  });

  app.put('/policies/:policy_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Change a draft\'s terms or nominee; the premium is priced again', security: bearer,
      description: 'Only drafts, only by their selling agent (or a super_admin). Send If-Match with the ETag you read.',
      params: PolicyParamsSchema, headers: IfMatchHeadersSchema, body: s.UpdatePolicyBodySchema,
      response: { 200: s.PolicyDetailSchema, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const policy = await policies.update(request.requirePrincipal(), request.params.policy_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(policy.version)).send(policy);
  });

  app.post('/policies/:policy_id/transitions', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Move a policy along its lifecycle (submit, approve, reject, issue, lapse, revive, ...)', security: bearer,
      description: 'Agents submit or cancel their own drafts; an admin of the provider approves, rejects, issues (to: active, assigns the policy number) and moves active or lapsed policies. A move the state machine does not allow answers 409 INVALID_TRANSITION.',
      params: PolicyParamsSchema, headers: IfMatchHeadersSchema, body: s.TransitionBodySchema,
      response: { 200: s.PolicyDetailSchema, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const policy = await policies.transition(request.requirePrincipal(), request.params.policy_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(policy.version)).send(policy);
  });

  app.post('/policies/:policy_id/renewals', {
    preHandler: app.authorize('policy.update'),
    schema: {
      tags, summary: 'Record a paid renewal year: earns its renewal commissions (provider admins)', security: bearer,
      description: '201 when the year is recorded now, 200 when it already was (nothing is earned twice).',
      params: PolicyParamsSchema, body: s.RenewalBodySchema,
      response: { 200: s.RenewalResultSchema, 201: s.RenewalResultSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const { created, result } = await policies.recordRenewalAs(request.requirePrincipal(), request.params.policy_id, request.body.policy_year, request.auditContext());
    return reply.code(created ? 201 : 200).send(result);
  });
};

export default policyRoutes;
