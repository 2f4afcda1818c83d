import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../../container.js';
import { SEVERITIES } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import { PageSchema, PaginationQuerySchema, problems, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

const SecurityEventSchema = Type.Object({
  id: UuidSchema,
  occurred_at: TimestampSchema,
  kind: Type.String({ examples: ['credential_stuffing'] }),
  severity: Type.Enum(SEVERITIES),
  user_id: Type.Union([UuidSchema, Type.Null()]),
  ip_address: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown(),
});

const QuerySchema = Type.Object({
  kind: Type.Optional(Type.String({ maxLength: 64, pattern: '^[a-z_]+$' })),
  severity: Type.Optional(Type.Enum(SEVERITIES)),
  ...PaginationQuerySchema,
}, { additionalProperties: false });

const securityRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const db = services.security.database;
  app.get('/security-events', {
    preHandler: app.authorize('security.read'),
    schema: {
      tags: ['security'], summary: 'Security events, newest first (super_admin)', security: [{ bearerAuth: [] }],
      querystring: QuerySchema, response: { 200: PageSchema(SecurityEventSchema), ...problems(401, 403, 422) },
    },
  }, async (request) => {
    const limit = request.query.limit ?? 20;
    const after = decodeCursor(request.query.cursor, ['timestamp', 'uuid']);
    let query = db.selectFrom('security_events').selectAll().orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(limit + 1);
    if (request.query.kind) query = query.where('kind', '=', request.query.kind);
    if (request.query.severity) query = query.where('severity', '=', request.query.severity);
    if (after) {
      const [at, id] = after as [string, string];
      query = query.where((eb) => eb.or([eb('occurred_at', '<', new Date(at)), eb.and([eb('occurred_at', '=', new Date(at)), eb('id', '<', id)])]));
    }
    const page = toPage(await query.execute(), limit, (row) => [row.occurred_at.toISOString(), row.id]);
    return { ...page, items: page.items.map((row) => ({ ...row, occurred_at: toIso(row.occurred_at) })) };
  });
};

export default securityRoutes;
