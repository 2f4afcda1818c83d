import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../container.js';
import { IdempotencyHeadersSchema, IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NotModifiedSchema, PageSchema, problems } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import * as s from './customers.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['customers'];

/** Customers: created by active agents, seen by their managers and scoped admins. */
const customerRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { customers } = services;

  app.get('/customers', {
    preHandler: app.authorize('customer.read'),
    schema: {
      tags, summary: 'Customers in my scope; search by name or phone', security: bearer,
      querystring: s.CustomerListQuerySchema, response: { 200: PageSchema(s.CustomerSchema), ...problems(401, 403, 422) },
    },
  }, async (request) => customers.list(request.requirePrincipal(), request.query));

  app.post('/customers', {
    preHandler: app.authorize('customer.create'),
    schema: {
      tags, summary: 'Add a customer (active agents)', security: bearer, headers: IdempotencyHeadersSchema,
      body: s.CreateCustomerBodySchema, response: { 201: s.CustomerSchema, ...problems(401, 403, 422) },
    },
  }, async (request, reply) => {
    const result = await customers.create(request.requirePrincipal(), request.body, request.auditContext(), { key: request.headers['idempotency-key'], path: request.url });
    return reply.code(201).header('etag', etagOf(1)).header('location', `/api/v1/customers/${result.body.id}`).send(result.body);
  });

  app.get('/customers/:customer_id', {
    preHandler: app.authorize('customer.read'),
    schema: {
      tags, summary: 'A customer', security: bearer,
      params: s.CustomerParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.CustomerSchema, 304: NotModifiedSchema, ...problems(401, 403, 404) },
    },
  }, async (request, reply) => {
    const row = await customers.get(request.requirePrincipal(), request.params.customer_id);
    return replyVersioned(request, reply, row.version, s.toCustomerResponse(row));
  });

  // customer.read here, customer.update in the service after the scope check: a record out of scope is a 404 before it is a 403.
  app.put('/customers/:customer_id', {
    preHandler: app.authorize('customer.read'),
    schema: {
      tags, summary: 'Change a customer (its agent or the agent\'s managers)', security: bearer, headers: IfMatchHeadersSchema,
      params: s.CustomerParamsSchema, body: s.UpdateCustomerBodySchema, response: { 200: s.CustomerSchema, ...problems(401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const row = await customers.update(request.requirePrincipal(), request.params.customer_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toCustomerResponse(row));
  });
};

export default customerRoutes;
