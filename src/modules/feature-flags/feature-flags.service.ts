import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, Role } from '../../db/types.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';

export interface FeatureFlag {
  key: string;
  enabled: boolean;
  roles: Role[] | null;
  percentage: number | null;
  description: string | null;
  updated_at: Date;
}

/** A user's stable bucket 0..99 for a flag, so a percentage rollout keeps the same users in. */
export function bucketOf(flagKey: string, userId: string): number {
  return createHash('sha256').update(`${flagKey}:${userId}`).digest().readUInt32BE(0) % 100;
}

export function isEnabledFor(flag: FeatureFlag | undefined, user: { id: string; role: Role } | null): boolean {
  if (!flag?.enabled) return false;
  if (flag.roles && (!user || !flag.roles.includes(user.role))) return false;
  if (flag.percentage !== null && flag.percentage < 100) return user !== null && bucketOf(flag.key, user.id) < flag.percentage;
  return true;
}

/**
 * Flags are few and read on hot paths, so they are cached in process for a
 * few seconds; a change is seen everywhere within that time.
 */
export class FeatureFlagsService {
  private cache: { at: number; flags: Map<string, FeatureFlag> } | undefined;

  constructor(private readonly db: Kysely<DB>, private readonly clock: Clock, private readonly ttlMs = 5000) {}

  async list(): Promise<FeatureFlag[]> {
    return [...(await this.load()).values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  async isEnabled(key: string, user: { id: string; role: Role } | null): Promise<boolean> {
    return isEnabledFor((await this.load()).get(key), user);
  }

  async set(key: string, input: { enabled: boolean; roles?: Role[] | null; percentage?: number | null; description?: string | null }, ctx: AuditContext): Promise<FeatureFlag> {
    const now = this.clock.now();
    const values = { enabled: input.enabled, roles: input.roles ?? null, percentage: input.percentage ?? null, updated_at: now, updated_by: ctx.actorId };
    const row = await this.db.transaction().execute(async (trx) => {
      const before = await trx.selectFrom('feature_flags').selectAll().where('key', '=', key).forUpdate().executeTakeFirst();
      const saved = await trx
        .insertInto('feature_flags')
        .values({ key, ...values, description: input.description ?? before?.description ?? null })
        .onConflict((oc) => oc.column('key').doUpdateSet({ ...values, ...(input.description !== undefined ? { description: input.description } : {}) }))
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAuditEvent(trx, ctx, { action: 'feature_flag.set', entityType: 'feature_flag', entityId: key,
        changes: { enabled: [before?.enabled ?? null, saved.enabled], roles: [before?.roles ?? null, saved.roles], percentage: [before?.percentage ?? null, saved.percentage] } }, now);
      return saved;
    });
    this.cache = undefined;
    return row as FeatureFlag;
  }

  /** preHandler-friendly guard: a disabled feature answers 404, as if it did not exist. */
  async assertEnabled(key: string, user: { id: string; role: Role } | null): Promise<void> {
    if (!(await this.isEnabled(key, user))) throw new AppError('NOT_FOUND', 404, 'No such resource.');
  }

  private async load(): Promise<Map<string, FeatureFlag>> {
    const now = Date.now();
    if (this.cache && now - this.cache.at < this.ttlMs) return this.cache.flags;
    const rows = await this.db.selectFrom('feature_flags').selectAll().execute();
    const flags = new Map(rows.map((r) => [r.key, r as FeatureFlag]));
    this.cache = { at: now, flags };
    return flags;
  }
}
