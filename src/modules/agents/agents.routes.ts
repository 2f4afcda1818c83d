import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { toIso } from '../../shared/clock.js';
import { IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NotModifiedSchema, PageSchema, problems } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import documentRoutes from './agents.documents.routes.js';
import * as s from './agents.schemas.js';
import type { LifecycleAction } from './agents.service.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['agents'];

const summaryOf = <T extends { created_at: Date }>(row: T) => ({ ...row, created_at: toIso(row.created_at) });

/** Lifecycle moves: who may make them is the permission; which agents, the caller's scope. */
const REASONED: { action: LifecycleAction; permission: string; summary: string }[] = [
  { action: 'reject', permission: 'agent.approve', summary: 'Reject a pending agent' },
  { action: 'suspend', permission: 'agent.suspend', summary: 'Suspend an active agent (it can no longer sell)' },
  { action: 'deactivate', permission: 'agent.suspend', summary: 'Deactivate an active agent (it stops representing its providers)' },
];
const UNREASONED: { action: LifecycleAction; permission: string; summary: string; description?: string }[] = [
  { action: 'approve', permission: 'agent.approve', summary: 'Approve a pending agent: it gets its agent code',
    description: 'Needs a verified license and a verified pan document and an unexpired licence (422 naming what is missing). Ends the agent\'s sessions so it signs in again with its new standing.' },
  { action: 'reinstate', permission: 'agent.suspend', summary: 'Reinstate a suspended agent' },
];

/** Agents: registration, profiles, hierarchy, lifecycle, numbers; documents in agents.documents.routes.ts. */
const agentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { agents } = services;

  app.post('/agents/register', {
    config: { rateLimitScope: 'auth' },
    schema: {
      tags, summary: 'Register as an agent; an OTP verifies the phone',
      description: 'Creates the user (pending_verification until POST /auth/verify-otp with purpose register) and the agent (pending_approval until approved).',
      body: s.RegisterAgentBodySchema, response: { 201: s.RegisterAgentResponseSchema, ...problems(409, 422, 429, 503) },
    },
  }, async (request, reply) => reply.code(201).send(await agents.register(request.body, request.auditContext())));

  app.get('/agents', {
    preHandler: app.authorize('agent.read'),
    schema: {
      tags, summary: 'Agents in my scope', security: bearer,
      querystring: s.AgentListQuerySchema, response: { 200: PageSchema(s.AgentSummarySchema), ...problems(401, 403, 422) },
    },
  }, async (request) => {
    const page = await agents.list(request.requirePrincipal(), request.query);
    return { items: page.items.map(summaryOf), next_cursor: page.next_cursor };
  });

  app.get('/agents/:agent_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'An agent\'s profile (itself, or in my scope)', security: bearer,
      params: s.AgentParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.AgentSchema, 304: NotModifiedSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const { agent, version } = await agents.get(request.requirePrincipal(), request.params.agent_id);
    return replyVersioned(request, reply, version, agent);
  });

  app.put('/agents/:agent_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Renew the licence (the agent), or set manager and region (administrators)', security: bearer, headers: IfMatchHeadersSchema,
      params: s.AgentParamsSchema, body: s.UpdateAgentBodySchema, response: { 200: s.AgentSchema, ...problems(401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const { agent, version } = await agents.update(request.requirePrincipal(), request.params.agent_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(version)).send(agent);
  });

  app.get('/agents/:agent_id/team', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Everyone reporting to the agent, directly or not', security: bearer,
      params: s.AgentParamsSchema, response: { 200: Type.Object({ items: Type.Array(s.AgentSummarySchema) }), ...problems(401, 404) },
    },
  }, async (request) => ({ items: (await agents.team(request.requirePrincipal(), request.params.agent_id)).map(summaryOf) }));

  app.get('/agents/:agent_id/metrics', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Customers, policies by status, premium, commissions earned, conversion', security: bearer,
      params: s.AgentParamsSchema, response: { 200: s.AgentMetricsSchema, ...problems(401, 404) },
    },
  }, async (request) => agents.metrics(request.requirePrincipal(), request.params.agent_id));

  app.get('/agents/:agent_id/commissions', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'The agent\'s commissions, newest first', security: bearer,
      params: s.AgentParamsSchema, querystring: s.CommissionListQuerySchema, response: { 200: PageSchema(s.CommissionItemSchema), ...problems(401, 404, 422) },
    },
  }, async (request) => {
    const page = await agents.commissions(request.requirePrincipal(), request.params.agent_id, request.query);
    return {
      items: page.items.map((c) => ({ commission_id: c.id, policy_id: c.policy_id, kind: c.kind, amount_paise: c.amount_paise, status: c.status, earned_at: toIso(c.earned_at) })),
      next_cursor: page.next_cursor,
    };
  });

  for (const { action, permission, summary } of REASONED) {
    app.post(`/agents/:agent_id/${action}`, {
      preHandler: app.authorize(permission),
      schema: {
        tags, summary, security: bearer,
        params: s.AgentParamsSchema, body: s.ReasonBodySchema, response: { 200: s.AgentSchema, ...problems(401, 403, 404, 409, 422) },
      },
    }, async (request, reply) => {
      const { agent, version } = await agents.transition(request.requirePrincipal(), request.params.agent_id, action, request.body.reason, request.auditContext());
      return reply.header('etag', etagOf(version)).send(agent);
    });
  }

  for (const { action, permission, summary, description } of UNREASONED) {
    app.post(`/agents/:agent_id/${action}`, {
      preHandler: app.authorize(permission),
      schema: {
        tags, summary, ...(description ? { description } : {}), security: bearer,
        params: s.AgentParamsSchema, body: Type.Union([s.OptionalReasonBodySchema, Type.Null()], { description: 'Optional: no body at all is fine.' }), response: { 200: s.AgentSchema, ...problems(401, 403, 404, 409, 422) },
      },
    }, async (request, reply) => {
      const { agent, version } = await agents.transition(request.requirePrincipal(), request.params.agent_id, action, request.body?.reason, request.auditContext());
      return reply.header('etag', etagOf(version)).send(agent);
    });
  }

  await app.register(documentRoutes, { services });
};

export default agentRoutes;
