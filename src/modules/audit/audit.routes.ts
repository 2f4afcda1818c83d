import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../container.js';
import { problems } from '../../shared/schemas.js';
import { AuditPageSchema, AuditQuerySchema } from './audit.schemas.js';

const auditRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get('/audit-events', {
    preHandler: app.authorize('audit.read'),
    schema: {
      tags: ['audit'], summary: 'The audit trail, newest first (administrators; scoped)', security: [{ bearerAuth: [] }],
      description: 'super_admin sees every event; a provider_admin or regional_manager the events about users in its scope, and those by them about records in its scope (their sign-ins, and the policies, customers, agents, documents, its provider\'s products or its regions they acted on).',
      querystring: AuditQuerySchema, response: { 200: AuditPageSchema, ...problems(401, 403, 422) },
    },
  }, async (request) => services.audit.list(request.requirePrincipal(), request.query));
};

export default auditRoutes;
