import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { toIso } from '../../shared/clock.js';
import { problems, TextSchema, TimestampSchema } from '../../shared/schemas.js';
import { RoleSchema } from '../users/users.schemas.js';
import type { FeatureFlag } from './feature-flags.service.js';

const FlagSchema = Type.Object({
  key: Type.String(),
  enabled: Type.Boolean(),
  roles: Type.Union([Type.Array(RoleSchema), Type.Null()], { description: 'Only these roles see the feature; null: every role.' }),
  percentage: Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()], { description: 'Share of users (stable per user) who see it; null: all.' }),
  description: Type.Union([Type.String(), Type.Null()]),
  enabled_for_me: Type.Boolean(),
  updated_at: TimestampSchema,
});

const FlagBodySchema = Type.Object(
  {
    enabled: Type.Boolean(),
    roles: Type.Optional(Type.Union([Type.Array(RoleSchema, { maxItems: 6, uniqueItems: true }), Type.Null()])),
    percentage: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Null()])),
    description: Type.Optional(Type.Union([TextSchema(500), Type.Null()])),
  },
  { additionalProperties: false, examples: [{ enabled: true, roles: ['senior_agent', 'junior_agent'], percentage: 25 }] },
);

const bearer = [{ bearerAuth: [] }];

const featureFlagRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const flags = services.featureFlags;
  const view = (flag: FeatureFlag, enabledForMe: boolean) => ({ ...flag, updated_at: toIso(flag.updated_at), enabled_for_me: enabledForMe });

  app.get('/feature-flags', {
    preHandler: app.authenticate,
    schema: { tags: ['feature-flags'], summary: 'Feature flags and whether each is on for me', security: bearer, response: { 200: Type.Object({ items: Type.Array(FlagSchema) }), ...problems(401) } },
  }, async (request) => {
    const me = request.requirePrincipal();
    const user = { id: me.userId, role: me.role };
    return { items: await Promise.all((await flags.list()).map(async (f) => view(f, await flags.isEnabled(f.key, user)))) };
  });

  app.put('/feature-flags/:key', {
    preHandler: app.authorize('feature_flag.write'),
    schema: {
      tags: ['feature-flags'], summary: 'Create or change a flag (super_admin)', security: bearer,
      params: Type.Object({ key: Type.String({ pattern: '^[a-z][a-z0-9_.-]{1,63}$' }) }, { additionalProperties: false }),
      body: FlagBodySchema, response: { 200: FlagSchema, ...problems(401, 403, 404, 422) },
    },
  }, async (request) => {
    const me = request.requirePrincipal();
    const flag = await flags.set(request.params.key, request.body, request.auditContext());
    return view(flag, await flags.isEnabled(flag.key, { id: me.userId, role: me.role }));
  });
};

export default featureFlagRoutes;
