import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../container.js';
import { IdempotencyHeadersSchema, IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NotModifiedSchema, PageSchema, problems } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import * as s from './products.schemas.js';
import { ProviderParamsSchema } from './providers.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['products'];

/** A provider's products: anyone signed in reads them (agents sell them); the provider's managers write them. */
const productRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { products } = services;

  app.get('/providers/:provider_id/products', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'A provider\'s products', security: bearer,
      params: ProviderParamsSchema, querystring: s.ProductListQuerySchema, response: { 200: PageSchema(s.ProductSchema), ...problems(401, 404, 422) },
    },
  }, async (request) => products.list(request.params.provider_id, request.query));

  app.post('/providers/:provider_id/products', {
    preHandler: app.authorize('provider.update'),
    schema: {
      tags, summary: 'Add a product with its rating rules (super_admin, or the provider\'s own admin)', security: bearer, headers: IdempotencyHeadersSchema,
      description: 'Contradictory rules (inverted ranges, maturity age below entry age + term, gaps or overlaps in the rate table, ...) are refused with 422, each named.',
      params: ProviderParamsSchema, body: s.CreateProductBodySchema, response: { 201: s.ProductSchema, ...problems(401, 403, 404, 409, 422) },
    },
  }, async (request, reply) => {
    const { provider_id } = request.params;
    const result = await products.create(request.requirePrincipal(), provider_id, request.body, request.auditContext(), { key: request.headers['idempotency-key'], path: request.url });
    return reply.code(201).header('etag', etagOf(1)).header('location', `/api/v1/providers/${provider_id}/products/${result.body.id}`).send(result.body);
  });

  app.get('/providers/:provider_id/products/:product_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'A product', security: bearer,
      params: s.ProductParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.ProductSchema, 304: NotModifiedSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const row = await products.get(request.params.provider_id, request.params.product_id);
    return replyVersioned(request, reply, row.version, s.toProductResponse(row));
  });

  app.put('/providers/:provider_id/products/:product_id', {
    preHandler: app.authorize('provider.update'),
    schema: {
      tags, summary: 'Change a product (its rules stay consistent)', security: bearer, headers: IfMatchHeadersSchema,
      params: s.ProductParamsSchema, body: s.UpdateProductBodySchema, response: { 200: s.ProductSchema, ...problems(401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const { provider_id, product_id } = request.params;
    const row = await products.update(request.requirePrincipal(), provider_id, product_id, request.body, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toProductResponse(row));
  });
};

export default productRoutes;
