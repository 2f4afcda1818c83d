import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import secureJson from 'secure-json-parse';
import { AppError } from '../shared/errors.js';

export interface RequestGuardOptions {
  requireHttps: boolean;
  maxDepth: number;
  onForbidden?: (userId: string, ip: string, route: string) => Promise<void>;
}

/** Deepest nesting in a parsed JSON value, stopping early once past the limit. */
export function exceedsDepth(value: unknown, limit: number, depth = 0): boolean {
  if (depth > limit) return true;
  if (value === null || typeof value !== 'object') return false;
  for (const child of Array.isArray(value) ? value : Object.values(value)) if (exceedsDepth(child, limit, depth + 1)) return true;
  return false;
}

/**
 * Input and transport hygiene that applies to every route: the JSON parser
 * refuses prototype pollution and deep nesting (a cheap denial of service on
 * recursive code), production refuses plain HTTP as seen by a trusted proxy,
 * and 403 answers feed intrusion detection.
 */
export default fp(
  async function requestGuards(app: FastifyInstance, opts: RequestGuardOptions) {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(new AppError('MALFORMED_JSON', 400, 'The body is empty; send a JSON object.'));
      let parsed: unknown;
      try {
        parsed = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
      } catch {
        return done(new AppError('MALFORMED_JSON', 400, 'The body is not valid JSON, or carries __proto__ or constructor.prototype.'));
      }
      if (exceedsDepth(parsed, opts.maxDepth)) return done(new AppError('VALIDATION_FAILED', 422, `JSON nested deeper than ${opts.maxDepth} levels is refused.`, { errors: [{ path: '/', message: 'is nested too deeply' }] }));
      done(null, parsed);
    });

    if (opts.requireHttps) {
      app.addHook('onRequest', async (request) => {
        const internal = request.url.startsWith('/health/') || request.url === '/metrics';
        if (!internal && request.protocol !== 'https') throw new AppError('FORBIDDEN', 403, 'HTTPS is required.');
      });
    }

    if (opts.onForbidden) {
      const report = opts.onForbidden;
      app.addHook('onResponse', async (request, reply) => {
        if (reply.statusCode === 403 && request.principal) {
          await report(request.principal.userId, request.ip, request.routeOptions.url ?? request.url).catch((error: unknown) => request.log.warn({ err: error }, 'security signal lost'));
        }
      });
    }
  },
  { name: 'request-guards' },
);
