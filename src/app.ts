import { randomUUID } from 'node:crypto';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type DestinationStream } from 'pino';
import type { Config } from './config/config.js';
import { buildServices, type Infrastructure, type Services } from './container.js';
import auditRoutes from './modules/audit/audit.routes.js';
import agentRoutes from './modules/agents/agents.routes.js';
import authRoutes from './modules/auth/auth.routes.js';
import customerRoutes from './modules/customers/customers.routes.js';
import featureFlagRoutes from './modules/feature-flags/feature-flags.routes.js';
import regionsRoutes from './modules/regions/regions.routes.js';
import usersRoutes from './modules/users/users.routes.js';
import policyRoutes from './modules/policies/policies.routes.js';
import providerRoutes from './modules/providers/providers.routes.js';
import admission from './plugins/admission.js';
import authenticate from './plugins/authenticate.js';
import docs from './plugins/docs.js';
import errorHandler from './plugins/error-handler.js';
import health from './plugins/health.js';
import metrics from './plugins/metrics.js';
import rateLimit from './plugins/rate-limit.js';
import requestGuards from './plugins/request-guards.js';
import securityHeaders from './plugins/security-headers.js';
import securityRoutes from './modules/security/security.routes.js';
import { ProblemSchema, registerFormats } from './shared/schemas.js';
import { requestChildLogger, requestLogMixin } from './shared/log-bindings.js';
import { serializerController } from './shared/serializer.js';

registerFormats();

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    config: Config;
  }
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Paths and body fields whose values never reach a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.code',
  '*.refresh_token',
  '*.access_token',
  '*.reset_token',
  '*.otp',
];

/** The process logger: JSON lines, redacted, with the request id on every request line. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): FastifyBaseLogger {
  return pino({
    level: config.LOG_LEVEL,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // The path without its query string: queries carry search terms and phone numbers.
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: req.url?.split('?')[0], remote_address: req.ip }),
    },
    base: { service: 'bima-api', pid: process.pid },
    // A request's id, route and user, written into its lines only when a line is written (log-bindings.ts).
    mixin: requestLogMixin,
  }, destination as DestinationStream);
}

/**
 * Builds the whole application: plugins in dependency order, then the module
 * routes under /api/v1. No I/O happens here beyond what the given
 * infrastructure does; server.ts and the tests decide what that is.
 */
export async function buildApp(config: Config, infra: Infrastructure) {
  const app = Fastify({
    loggerInstance: infra.log,
    bodyLimit: 1_048_576,
    trustProxy: config.trustedProxies.length ? [...config.trustedProxies] : false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    onProtoPoisoning: 'error',
    schemaController: serializerController(),
    childLoggerFactory: requestChildLogger,
    onConstructorPoisoning: 'error',
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  app.addSchema(ProblemSchema);

  const services = buildServices(config, infra, {
    authEvent: (event, method, outcome) => app.metrics?.authOutcomes.inc({ event, method, outcome }),
    pageCache: (cache, outcome) => app.metrics?.pageCacheLookups.inc({ cache, outcome }),
  });
  app.decorate('services', services);
  app.addHook('onReady', () => services.broadcast.start());
  app.addHook('onClose', () => services.broadcast.stop());
  app.addHook('onClose', () => services.hasher.close());
  app.decorate('config', config);

  await app.register(admission, { perTurn: config.ADMISSION_PER_TURN });
  await app.register(errorHandler);
  await app.register(securityHeaders, { corsOrigins: config.corsOrigins });
  await app.register(metrics, { database: infra.database, kv: infra.kv, token: config.METRICS_TOKEN });
  await app.register(rateLimit, {
    max: config.RATE_LIMIT_MAX,
    authMax: config.AUTH_RATE_LIMIT_MAX,
    windowS: config.RATE_LIMIT_WINDOW_S,
    redis: infra.kv.redis,
    onLimited: (scope) => app.metrics.rateLimitHits.inc({ scope }),
  });
  await app.register(docs, { enabled: config.DOCS_ENABLED });
  await app.register(authenticate, {
    keys: infra.keys, settings: services.auth.tokenSettings, revocations: services.revocations, clock: infra.clock,
    currentRole: async (userId) => (await services.callers.user(userId))?.role,
  });
  await app.register(health, { db: infra.database.db, kv: infra.kv });
  await app.register(requestGuards, {
    requireHttps: config.isProduction,
    maxDepth: 32,
    onForbidden: (userId, ip, route) => services.security.onForbidden(userId, ip, route),
  });

  app.get('/.well-known/jwks.json', {
    config: { rateLimit: false },
    schema: { tags: ['operations'], summary: 'Public keys that verify access tokens' },
  }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(infra.keys.jwks));

  await app.register(async (api) => {
    await api.register(authRoutes, { services });
    await api.register(featureFlagRoutes, { services });
    await api.register(securityRoutes, { services });
    await api.register(usersRoutes, { services });
    await api.register(regionsRoutes, { services });
    await api.register(auditRoutes, { services });
    await api.register(policyRoutes, { services });
    await api.register(providerRoutes, { services });
    await api.register(agentRoutes, { services });
    await api.register(customerRoutes, { services });
  }, { prefix: '/api/v1' });

  return app;
}

export type App = FastifyInstance;
