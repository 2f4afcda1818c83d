import type { Kysely } from 'kysely';
import type { DB, UserRow } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Broadcast } from '../../shared/broadcast.js';
import { AppError } from '../../shared/errors.js';
import { SharedCache } from '../../shared/shared-cache.js';
import { teamOf, type Actor } from './rbac.scope.js';

interface Caller {
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
 * user (a SharedCache on channel 'callers': for at most `ttlMs`, dropped on
 * every instance as soon as a change to it commits, nothing cached while the
 * broadcast is not live).
 */
export class Callers {
  private readonly cache: SharedCache<Caller>;

  constructor(private readonly db: Kysely<DB>, broadcast: Broadcast, ttlMs: number, max = 50_000) {
    this.cache = new SharedCache({ channel: 'callers', broadcast, ttlMs, max, load: (userId) => this.load(userId) });
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
    return this.cache.changed(userIds, opts);
  }

  /** After a change that may touch anyone's team, agent record or region path has committed. */
  changedAll(): Promise<void> {
    return this.cache.changedAll();
  }

  private get(userId: string): Promise<Caller | undefined> {
    return this.cache.get(userId);
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
    return { user, regionPath, agentId, agentStatus, teamAgentIds };
  }
}
