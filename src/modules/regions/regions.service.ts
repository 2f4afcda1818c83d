import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, notFound, validationFailed } from '../../shared/errors.js';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency.js';
import { newId } from '../../shared/ids.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { assertIfMatch } from '../../shared/etag.js';
import * as repo from './regions.repository.js';
import { toRegionResponse, type CreateRegionBody, type Region, type RegionListQuery } from './regions.schemas.js';

/** Deep enough for country > state > district > city > zone, with room to spare. */
const MAX_DEPTH = 8;

const codeTaken = () => new AppError('CODE_TAKEN', 409, 'A region with this code exists.');

/** The territory tree. Any signed-in user reads it; only super_admin shapes it (route permissions). */
export class RegionsService {
  constructor(private readonly db: Kysely<DB>, private readonly clock: Clock) {}

  async list(query: RegionListQuery): Promise<{ items: Region[]; next_cursor: string | null }> {
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor, ['text']);
    const rows = await repo.listRegions(this.db, { parentId: query.parent_id, afterPath: cursor ? String(cursor[0]) : null, limit });
    const page = toPage(rows, limit, (row) => [row.path]);
    return { items: page.items.map(toRegionResponse), next_cursor: page.next_cursor };
  }

  async get(id: string): Promise<repo.RegionRow> {
    const row = await repo.findRegion(this.db, id);
    if (!row) throw notFound('Region');
    return row;
  }

  async create(body: CreateRegionBody, ctx: AuditContext, userId: string, idempotencyKey?: string): Promise<StoredResponse<Region>> {
    const code = body.code.toUpperCase();
    const scope = { userId, key: idempotencyKey, method: 'POST', path: '/regions', body };
    return runIdempotent(this.db, scope, async (trx) => {
      const parent = body.parent_id ? await repo.findRegion(trx, body.parent_id) : undefined;
      if (body.parent_id && !parent) throw validationFailed([{ path: '/parent_id', message: 'is not a known region' }], 'No such parent region.');
      if (parent && parent.path.split('/').length > MAX_DEPTH) {
        throw validationFailed([{ path: '/parent_id', message: `is already ${MAX_DEPTH} levels deep` }], 'The region tree is at most eight levels deep.');
      }
      if (await repo.findRegionByCode(trx, code)) throw codeTaken();
      const now = this.clock.now();
      const row = await repo.insertRegion(trx, {
        id: newId(now.getTime()), code, name: body.name.trim(), parent_id: parent?.id ?? null, path: `${parent?.path ?? ''}${code}/`, created_at: now, updated_at: now,
      }).catch((error: unknown) => { throw (error as { code?: string }).code === '23505' ? codeTaken() : error; });
      await appendAuditEvent(trx, ctx, { action: 'region.created', entityType: 'region', entityId: row.id, changes: { code, name: row.name, path: row.path } }, now);
      return { status: 201, body: toRegionResponse(row) };
    });
  }

  async rename(id: string, name: string, ifMatch: string | undefined, ctx: AuditContext): Promise<repo.RegionRow> {
    return this.db.transaction().execute(async (trx) => {
      const current = await repo.lockRegion(trx, id);
      if (!current) throw notFound('Region');
      assertIfMatch(ifMatch, current.version);
      const trimmed = name.trim();
      if (trimmed === current.name) return current;
      const now = this.clock.now();
      const row = await repo.renameRegion(trx, id, trimmed, now);
      await appendAuditEvent(trx, ctx, { action: 'region.updated', entityType: 'region', entityId: id, changes: { name: [current.name, trimmed] } }, now);
      return row;
    });
  }
}
