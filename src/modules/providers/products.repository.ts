import { sql, type Insertable, type Kysely, type SqlBool, type Transaction, type Updateable } from 'kysely';
import type { DB, ProductKind, ProductsTable } from '../../db/types.js';
import type { CursorValue } from '../../shared/pagination.js';
import type { ProductRow } from './products.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

export function insertProduct(trx: Db, row: Insertable<ProductsTable>): Promise<ProductRow> {
  return trx.insertInto('products').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findProduct(db: Db, providerId: string, productId: string, lock = false): Promise<ProductRow | undefined> {
  return db
    .selectFrom('products')
    .selectAll()
    .where('id', '=', productId)
    .where('provider_id', '=', providerId)
    .$if(lock, (qb) => qb.forUpdate())
    .executeTakeFirst();
}

export function findProductById(db: Db, productId: string): Promise<ProductRow | undefined> {
  return db.selectFrom('products').selectAll().where('id', '=', productId).executeTakeFirst();
}

export async function isProductCodeTaken(db: Db, providerId: string, code: string): Promise<boolean> {
  const row = await db.selectFrom('products').select('id').where('provider_id', '=', providerId).where('code', '=', code).executeTakeFirst();
  return row !== undefined;
}

export function updateProduct(trx: Transaction<DB>, id: string, patch: Updateable<ProductsTable>, version: number): Promise<ProductRow> {
  return trx.updateTable('products').set({ ...patch, version: version + 1 }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export function listProducts(db: Db, providerId: string, filters: { kind?: ProductKind; status?: ProductRow['status'] }, cursor: CursorValue[] | null, limit: number) {
  return db
    .selectFrom('products')
    .selectAll()
    .select(sql<string>`created_at::text`.as('cursor_at'))
    .where('provider_id', '=', providerId)
    .$if(filters.kind !== undefined, (qb) => qb.where('kind', '=', filters.kind!))
    .$if(filters.status !== undefined, (qb) => qb.where('status', '=', filters.status!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(created_at, id) > (${cursor![0]}, ${cursor![1]})`))
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .limit(limit + 1)
    .execute();
}
