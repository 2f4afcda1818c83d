import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { DB, RegionsTable } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;
export type RegionRow = Selectable<RegionsTable>;

export function findRegion(db: Db, id: string): Promise<RegionRow | undefined> {
  return db.selectFrom('regions').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockRegion(trx: Transaction<DB>, id: string): Promise<RegionRow | undefined> {
  return trx.selectFrom('regions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findRegionByCode(db: Db, code: string): Promise<RegionRow | undefined> {
  return db.selectFrom('regions').selectAll().where('code', '=', code).executeTakeFirst();
}

export function insertRegion(db: Db, row: Insertable<RegionsTable>): Promise<RegionRow> {
  return db.insertInto('regions').values(row).returningAll().executeTakeFirstOrThrow();
}

export function renameRegion(db: Db, id: string, name: string, now: Date): Promise<RegionRow> {
  return db
    .updateTable('regions')
    .set((eb) => ({ name, updated_at: now, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** In tree order: paths are unique (codes are), so the path alone is a stable keyset. */
export function listRegions(db: Db, filter: { parentId?: string; afterPath: string | null; limit: number }): Promise<RegionRow[]> {
  let query = db.selectFrom('regions').selectAll();
  if (filter.parentId) query = query.where('parent_id', '=', filter.parentId);
  if (filter.afterPath !== null) query = query.where('path', '>', filter.afterPath);
  return query.orderBy('path').limit(filter.limit + 1).execute();
}
