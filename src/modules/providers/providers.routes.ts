import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../container.js';
import { toIso } from '../../shared/clock.js';
import { IdempotencyHeadersSchema, IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NotModifiedSchema, PageSchema, problems } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import productRoutes from './products.routes.js';
import * as s from './providers.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['providers'];

/** Providers, their status, commission schedules, agent links and metrics; products in products.routes.ts. */
const providerRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { providers } = services;

  app.get('/providers', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'List and search providers', security: bearer,
      querystring: s.ProviderListQuerySchema, response: { 200: PageSchema(s.ProviderSchema), ...problems(401, 422) },
    },
  }, async (request) => providers.list(request.query));

  app.post('/providers', {
    preHandler: app.authorize('provider.create'),
    schema: {
      tags, summary: 'Create a provider (super_admin)', security: bearer, headers: IdempotencyHeadersSchema,
      body: s.CreateProviderBodySchema, response: { 201: s.ProviderSchema, ...problems(401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const result = await providers.create(request.requirePrincipal(), request.body, request.auditContext(), { key: request.headers['idempotency-key'], path: request.url });
    return reply.code(201).header('etag', etagOf(1)).header('location', `/api/v1/providers/${result.body.id}`).send(result.body);
  });

  app.get('/providers/:provider_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'A provider', security: bearer,
      params: s.ProviderParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.ProviderSchema, 304: NotModifiedSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const row = await providers.get(request.params.provider_id);
    return replyVersioned(request, reply, row.version, s.toProviderResponse(row));
  });

  app.put('/providers/:provider_id', {
    preHandler: app.authorize('provider.update'),
    schema: {
      tags, summary: 'Change a provider (super_admin, or its own provider_admin)', security: bearer, headers: IfMatchHeadersSchema,
      params: s.ProviderParamsSchema, body: s.UpdateProviderBodySchema, response: { 200: s.ProviderSchema, ...problems(401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const row = await providers.update(request.requirePrincipal(), request.params.provider_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toProviderResponse(row));
  });

  app.put('/providers/:provider_id/status', {
    preHandler: app.authorize('provider.status'),
    schema: {
      tags, summary: 'Activate, deactivate or suspend a provider (super_admin)', security: bearer,
      params: s.ProviderParamsSchema, body: s.ProviderStatusBodySchema, response: { 200: s.ProviderSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const row = await providers.setStatus(request.requirePrincipal(), request.params.provider_id, request.body, request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toProviderResponse(row));
  });

  app.get('/providers/:provider_id/commission-rules', {
    preHandler: app.authorize('provider.read'),
    schema: {
      tags, summary: 'The commission schedule that applies (to a product kind)', security: bearer,
      params: s.ProviderParamsSchema, querystring: s.CommissionRuleQuerySchema, headers: IfNoneMatchHeadersSchema,
      response: { 200: s.CommissionRuleSchema, 304: NotModifiedSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const row = await providers.getCommissionRule(request.requirePrincipal(), request.params.provider_id, request.query.product_kind);
    return replyVersioned(request, reply, row.version, s.toCommissionRuleResponse(row));
  });

  app.put('/providers/:provider_id/commission-rules', {
    preHandler: app.authorize('provider.update'),
    schema: {
      tags, summary: 'Set a commission schedule (super_admin, or the provider\'s own admin)', security: bearer, headers: IfMatchHeadersSchema,
      params: s.ProviderParamsSchema, querystring: s.CommissionRuleQuerySchema, body: s.CommissionRuleBodySchema,
      response: { 200: s.CommissionRuleSchema, ...problems(401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const { provider_id } = request.params;
    const row = await providers.setCommissionRule(request.requirePrincipal(), provider_id, request.body, request.query.product_kind, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toCommissionRuleResponse(row));
  });

  app.get('/providers/:provider_id/agents', {
    preHandler: app.authorize('agent.read'),
    schema: {
      tags, summary: 'Agents linked to the provider (those in my scope)', security: bearer,
      params: s.ProviderParamsSchema, querystring: s.ProviderAgentsQuerySchema, response: { 200: PageSchema(s.ProviderAgentSchema), ...problems(401, 403, 404, 422) },
    },
  }, async (request) => {
    const page = await providers.listAgents(request.requirePrincipal(), request.params.provider_id, request.query);
    return { items: page.items.map((row) => ({ ...row, linked_at: toIso(row.linked_at) })), next_cursor: page.next_cursor };
  });

  app.post('/providers/:provider_id/agents', {
    preHandler: app.authorize('provider.update'),
    schema: {
      tags, summary: 'Link an agent to the provider (at most one provider of each type per agent)', security: bearer,
      description: 'super_admin only: a link opens the agent\'s documents, customers and account to the provider\'s admin, so a provider admin cannot make one (403). Agents choose their providers when they register.',
      params: s.ProviderParamsSchema, body: s.LinkAgentBodySchema, response: { 201: s.AgentLinkSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const link = await providers.linkAgent(request.requirePrincipal(), request.params.provider_id, request.body.agent_id, request.auditContext());
    return reply.code(201).send({ ...link, created_at: toIso(link.created_at) });
  });

  app.get('/providers/:provider_id/metrics', {
    preHandler: app.authorize('provider.read'),
    schema: {
      tags, summary: 'Agents and policies by status, premium in force, lapse ratio', security: bearer,
      params: s.ProviderParamsSchema, response: { 200: s.ProviderMetricsSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => providers.metrics(request.requirePrincipal(), request.params.provider_id));

  await app.register(productRoutes, { services });
};

export default providerRoutes;
