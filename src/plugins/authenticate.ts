import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Role } from '../db/types.js';
import type { SigningKeys } from '../modules/auth/auth.keys.js';
import type { RevocationStore } from '../modules/auth/auth.revocation.js';
import { verifyAccessToken, type AccessClaims, type TokenSettings } from '../modules/auth/auth.tokens.js';
import { LRUCache } from 'lru-cache';
import type { AuditContext } from '../modules/audit/audit.repository.js';
import { hasPermission } from '../modules/rbac/rbac.permissions.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/errors.js';
import { bindRequestLog } from '../shared/log-bindings.js';

/** Who is calling, from a verified access token whose session is still live. */
export interface Principal {
  userId: string;
  sessionId: string;
  role: Role;
  phoneNumber: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: requires a valid access token of a live session. */
    authenticate: preHandlerAsyncHookHandler;
    /** preHandler: authenticates, then requires the permission (wildcards honoured). */
    authorize(permission: string): preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** The principal of an authenticated route; throws if used on a public one. */
    requirePrincipal(): Principal;
    auditContext(): AuditContext;
  }
}

export interface AuthenticateOptions {
  keys: SigningKeys;
  settings: TokenSettings;
  revocations: RevocationStore;
  clock: Clock;
  /**
   * The caller's role as stored now (cached, see rbac.callers.ts). authorize()
   * checks permissions against it, not the token's claim, so a demotion
   * applies to the next request rather than when the access token expires.
   */
  currentRole?: (userId: string) => Promise<Role | undefined>;
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue: send Authorization: Bearer <access token>.');
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header);
  if (!match) throw new AppError('INVALID_TOKEN', 401, 'The access token is not valid.');
  return match[1]!;
}

export default fp(
  async function authenticatePlugin(app: FastifyInstance, opts: AuthenticateOptions) {
    app.decorateRequest('principal', null);
    app.decorateRequest('requirePrincipal', function (this: FastifyRequest) {
      if (!this.principal) throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue.');
      return this.principal;
    });
    app.decorateRequest('auditContext', function (this: FastifyRequest): AuditContext {
      return {
        actorId: this.principal?.userId ?? null,
        actorRole: this.principal?.role ?? null,
        requestId: String(this.id),
        ip: this.ip ?? null,
        userAgent: this.headers['user-agent']?.slice(0, 256) ?? null,
      };
    });

    // Verifying an Ed25519 signature is the largest fixed cost of a request; a
    // token verified once is remembered (bounded LRU) until it expires. Revocation
    // is still checked on every request, and expiry is re-checked on every hit.
    const verified = new LRUCache<string, AccessClaims>({ max: 20_000 });
    const verify = async (token: string, now: Date): Promise<AccessClaims> => {
      const cached = verified.get(token);
      if (cached && cached.exp * 1000 > now.getTime()) return cached;
      const claims = await verifyAccessToken(opts.keys, opts.settings, token, now);
      verified.set(token, claims);
      return claims;
    };

    const authenticate: preHandlerAsyncHookHandler = async function (request) {
      if (request.principal) return;
      const claims = await verify(bearerToken(request), opts.clock.now());
      if (await opts.revocations.isRevoked(claims.sid)) throw new AppError('SESSION_REVOKED', 401, 'This session has ended; sign in again.');
      request.principal = { userId: claims.sub, sessionId: claims.sid, role: claims.role, phoneNumber: claims.phone_number };
      request.log = bindRequestLog(request.log, { user_id: claims.sub });
    };
    app.decorate('authenticate', authenticate);
    app.decorate('authorize', (permission: string): preHandlerAsyncHookHandler => async function (request, reply) {
      await authenticate.call(this, request, reply);
      if (opts.currentRole) {
        const principal = request.principal!;
        const role = await opts.currentRole(principal.userId);
        if (!role) throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue.');
        if (role !== principal.role) request.principal = { ...principal, role };
      }
      if (!hasPermission(request.principal!.role, permission)) {
        throw new AppError('FORBIDDEN', 403, `This needs the ${permission} permission.`);
      }
    });
  },
  { name: 'authenticate' },
);
