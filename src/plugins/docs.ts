import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { notFound } from '../shared/errors.js';

const DOCS_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/**
 * The page at /docs is Scalar's, from @scalar/fastify-api-reference. Its
 * module carries the whole browser bundle (4 MB of JavaScript, about 20 MB of
 * heap, 200 ms to load), so it is loaded on the first visit, not at start:
 * a private Fastify instance holds Scalar's routes and /docs hands requests
 * over to it. Most instances never serve the page; none pay for it at start.
 */
let docsPage: Promise<FastifyInstance> | undefined;
function loadDocsPage(): Promise<FastifyInstance> {
  docsPage ??= (async () => {
    const { default: apiReference } = await import('@scalar/fastify-api-reference');
    const page = Fastify({ logger: false });
    await page.register(apiReference, { routePrefix: '/docs', configuration: { url: '/openapi.json', theme: 'default' } });
    await page.ready();
    return page;
  })().catch((error: unknown) => {
    docsPage = undefined; // the next visit tries again
    throw error;
  });
  return docsPage;
}

/** Headers that describe one HTTP exchange, not the page: the outer reply sets its own. */
const HOP_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

async function serveDocsPage(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const page = await loadDocsPage();
  const answer = await page.inject({ method: 'GET', url: request.url, headers: { accept: request.headers.accept ?? '*/*' } });
  // Scalar's instance answers unknown paths its own way; ours is a problem document like every other 404.
  if (answer.statusCode === 404) throw notFound('Documentation page');
  for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
  return reply.code(answer.statusCode).send(answer.rawPayload);
}

/** OpenAPI 3.1 generated from the route schemas, served at /openapi.json and rendered at /docs. */
export default fp(
  async function docsPlugin(app: FastifyInstance, opts: { enabled: boolean }) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Bima API',
          version: '1.0.0',
          description:
            'Backend of the Bima insurance agency platform. Money is integer paise; errors are RFC 9457 problems with a stable `code`; lists are cursor-paginated.',
        },
        servers: [{ url: '/' }],
        components: {
          securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        tags: [
          { name: 'auth', description: 'Registration, sign-in, tokens and sessions' },
          { name: 'users', description: 'User administration, search and preferences' },
          { name: 'regions', description: 'The region tree' },
          { name: 'providers', description: 'Insurers, their products, commission rules and agent links' },
          { name: 'agents', description: 'Agent registration, documents, approval, teams and metrics' },
          { name: 'customers', description: 'Customers of agents' },
          { name: 'policies', description: 'Quotes, policies, their lifecycle and commissions' },
          { name: 'audit', description: 'The tamper-evident audit trail' },
          { name: 'security', description: 'Security events' },
          { name: 'feature-flags', description: 'Feature flags' },
          { name: 'operations', description: 'Health, metrics and keys' },
        ],
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    if (!opts.enabled) return;
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    app.get('/docs', { schema: { hide: true } }, serveDocsPage);
    app.get('/docs/*', { schema: { hide: true } }, serveDocsPage);
    app.addHook('onSend', async (request, reply, payload) => {
      // The documentation page runs its own script and styles; the API's 'none' policy would blank it.
      if (request.url.startsWith('/docs')) reply.header('content-security-policy', DOCS_CSP);
      return payload;
    });
  },
  { name: 'docs' },
);
