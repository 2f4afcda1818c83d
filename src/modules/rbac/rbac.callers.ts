import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { DB, UserRow } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Broadcast } from '../../shared/broadcast.js';
import { AppError } from '../../shared/errors.js';
import { teamOf, type Actor } from './rbac.scope.js';

const CHANNEL = 'callers';

interface Caller {
  /** When (Date.now()) it is read again in the background: between half and three quarters of its life, spread so entries loaded together do not all reload together. */
  refreshAt: number;
  user: UserRow;
  regionPath: string | null;
  agentId: string | null;
  agentStatus: Actor['agentStatus'];
  teamAgentIds: string[];
}

/**
 * Who the caller is, for every authenticated request that needs more than the
 * token: the user row, region path, agent record and a senior agent's team.
 * Loading that is a database round trip per request; so it is cached per
 * user, for at most `ttlMs`, and dropped on every instance as soon as a change
 * to it commits (`changed`, `changedAll`, carried by the broadcast). A load
 * that raced a drop of its user is used once but not kept, and while the
 * broadcast is not live (Redis reconnecting) nothing is cached at all, so a
 * missed message can never leave a stale role or status behind.
 */
export class Callers {
  private readonly cache: LRUCache<string, Caller> | null;
  private readonly loading = new Map<string, Promise<Caller | undefined>>();

  private readonly ttlMs: number;

  constructor(private readonly db: Kysely<DB>, private readonly broadcast: Broadcast, ttlMs: number, max = 50_000) {
    this.cache = ttlMs > 0 ? new LRUCache<string, Caller>({ max, ttl: ttlMs }) : null;
    this.ttlMs = ttlMs;
    broadcast.listen(CHANNEL, (ids) => this.drop(ids), async () => this.drop('*'));
  }

  /** The caller as scope rules need it; 401 unless the account is active. */
  async actor(principal: Principal): Promise<Actor> {
    const caller = await this.get(principal.userId);
    if (!caller || caller.user.status !== 'active') throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue.');
    return {
      userId: caller.user.id,
      sessionId: principal.sessionId,
      role: caller.user.role,
      providerId: caller.user.provider_id,
      regionId: caller.user.region_id,
      regionPath: caller.regionPath,
      agentId: caller.agentId,
      agentStatus: caller.agentStatus,
      teamAgentIds: caller.teamAgentIds,
    };
  }

  /** The caller's own user row (GET /auth/me); undefined if it is gone. */
  async user(userId: string): Promise<UserRow | undefined> {
    return (await this.get(userId))?.user;
  }

  /** After a change to these users' rows has committed. */
  changed(userIds: readonly string[], opts: { wait: boolean } = { wait: true }): Promise<void> {
    return this.publish([...userIds], opts.wait);
  }

  /** After a change that may touch anyone's team, agent record or region path has committed. */
  changedAll(): Promise<void> {
    return this.publish('*', true);
  }

  private async publish(ids: string[] | '*', wait: boolean): Promise<void> {
    if (!this.cache || ids.length === 0) return;
    this.drop(ids);
    await this.broadcast.publish(CHANNEL, ids, wait);
  }

  private drop(ids: unknown): void {
    if (!this.cache) return;
    // Loads already running may have read the old rows: later callers must not
    // join them, and they are not kept (see reload: only the registered load is).
    if (ids === '*') {
      this.cache.clear();
      this.loading.clear();
    } else if (Array.isArray(ids)) {
      for (const id of ids) {
        if (typeof id !== 'string') continue;
        this.cache.delete(id);
        this.loading.delete(id);
      }
    }
  }

  private async get(userId: string): Promise<Caller | undefined> {
    const cache = this.broadcast.live ? this.cache : null;
    if (!cache) return this.load(userId);
    const hit = cache.get(userId);
    if (hit) {
      // Read again ahead of expiry, off the request's path: a caller in steady
      // use never waits for the database (under a login storm that wait was
      // the reads' tail). Changes do not wait for this: they drop the entry.
      if (Date.now() > hit.refreshAt) this.reload(userId, cache).catch(() => undefined);
      return hit;
    }
    return this.reload(userId, cache);
  }

  /** One load per user at a time: requests that find an entry gone (or stale) share one query. */
  private reload(userId: string, cache: LRUCache<string, Caller>): Promise<Caller | undefined> {
    let loading = this.loading.get(userId);
    if (!loading) {
      loading = this.load(userId).then((caller) => {
        // Dropped meanwhile (a change to this user, or to everyone): used once, not kept.
        // Per user, so sign-ins dropping their own entries leave other users' loads alone.
        if (this.loading.get(userId) === loading && this.broadcast.live) {
          if (caller) cache.set(userId, caller);
          else cache.delete(userId);
        }
        return caller;
      }).finally(() => {
        if (this.loading.get(userId) === loading) this.loading.delete(userId);
      });
      this.loading.set(userId, loading);
    }
    return loading;
  }

  private async load(userId: string): Promise<Caller | undefined> {
    const row = await this.db
      .selectFrom('users')
      .leftJoin('regions', 'regions.id', 'users.region_id')
      .leftJoin('agents', 'agents.user_id', 'users.id')
      .selectAll('users')
      .select(['regions.path as region_path', 'agents.id as agent_id', 'agents.status as agent_status'])
      .where('users.id', '=', userId)
      .executeTakeFirst();
    if (!row) return undefined;
    // The cache never holds password hashes.
    const { region_path: regionPath, agent_id: agentId, agent_status: agentStatus, password_hash: _hash, ...rest } = row;
    const user: UserRow = { ...rest, password_hash: null };
    const teamAgentIds = user.role === 'senior_agent' && agentId ? (await teamOf(this.db, agentId)).rows.map((r) => r.id) : [];
    const refreshAt = Date.now() + this.ttlMs * (0.5 + Math.random() / 4);
    return { refreshAt, user, regionPath, agentId, agentStatus, teamAgentIds };
  }
}
