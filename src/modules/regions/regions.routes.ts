import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { IdempotencyHeadersSchema, IfMatchHeadersSchema, IfNoneMatchHeadersSchema, NotModifiedSchema, problems, UuidSchema } from '../../shared/schemas.js';
import { etagOf, replyVersioned } from '../../shared/etag.js';
import * as s from './regions.schemas.js';

const bearer = [{ bearerAuth: [] }];
const tags = ['regions'];
const RegionParamsSchema = Type.Object({ region_id: UuidSchema }, { additionalProperties: false });

const regionsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const { regions } = services;

  app.get('/regions', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'Regions, in tree order', security: bearer,
      querystring: s.RegionListQuerySchema, response: { 200: s.RegionPageSchema, ...problems(401, 422) },
    },
  }, async (request) => regions.list(request.query));

  app.post('/regions', {
    preHandler: app.authorize('region.create'),
    schema: {
      tags, summary: 'Create a region (super_admin)', security: bearer,
      headers: IdempotencyHeadersSchema, body: s.CreateRegionBodySchema, response: { 201: s.RegionSchema, ...problems(401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const me = request.requirePrincipal();
    const result = await regions.create(request.body, request.auditContext(), me.userId, request.headers['idempotency-key']);
    reply.header('location', `/api/v1/regions/${result.body.id}`);
    if (!result.replayed) reply.header('etag', etagOf(1));
    // A replay stored the same 201 the first call gave.
    return reply.code(201).send(result.body);
  });

  app.get('/regions/:region_id', {
    preHandler: app.authenticate,
    schema: {
      tags, summary: 'A region', security: bearer,
      params: RegionParamsSchema, headers: IfNoneMatchHeadersSchema, response: { 200: s.RegionSchema, 304: NotModifiedSchema, ...problems(401, 404) },
    },
  }, async (request, reply) => {
    const row = await regions.get(request.params.region_id);
    return replyVersioned(request, reply, row.version, s.toRegionResponse(row));
  });

  app.put('/regions/:region_id', {
    preHandler: app.authorize('region.update'),
    schema: {
      tags, summary: 'Rename a region (super_admin)', security: bearer,
      params: RegionParamsSchema, headers: IfMatchHeadersSchema, body: s.UpdateRegionBodySchema,
      response: { 200: s.RegionSchema, ...problems(401, 403, 404, 412, 422) },
    },
  }, async (request, reply) => {
    const row = await regions.rename(request.params.region_id, request.body.name, request.headers['if-match'], request.auditContext());
    return reply.header('etag', etagOf(row.version)).send(s.toRegionResponse(row));
  });
};

export default regionsRoutes;
