import { sql, type Insertable, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { AgentDocumentsTable, DB, DocumentType } from '../../db/types.js';
import type { CursorValue } from '../../shared/pagination.js';
import type { DocumentRow } from './agents.documents.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

export function insertDocument(trx: Db, row: Insertable<AgentDocumentsTable>): Promise<DocumentRow> {
  return trx.insertInto('agent_documents').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findDocument(db: Db, agentId: string, documentId: string, lock = false): Promise<DocumentRow | undefined> {
  return db
    .selectFrom('agent_documents')
    .selectAll()
    .where('id', '=', documentId)
    .where('agent_id', '=', agentId)
    .$if(lock, (qb) => qb.forUpdate())
    .executeTakeFirst();
}

export function listDocuments(db: Db, agentId: string, type: DocumentType | undefined, cursor: CursorValue[] | null, limit: number): Promise<(DocumentRow & { cursor_at: string })[]> {
  return db
    .selectFrom('agent_documents')
    .selectAll()
    .select(sql<string>`created_at::text`.as('cursor_at'))
    .where('agent_id', '=', agentId)
    .$if(type !== undefined, (qb) => qb.where('type', '=', type!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(created_at, id) < (${cursor![0]}, ${cursor![1]})`))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
}

export function reviewDocument(trx: Transaction<DB>, documentId: string, review: { status: 'verified' | 'rejected'; review_notes: string | null; reviewed_by: string; reviewed_at: Date }): Promise<DocumentRow> {
  return trx.updateTable('agent_documents').set(review).where('id', '=', documentId).returningAll().executeTakeFirstOrThrow();
}

/** Document types of the agent with at least one verified document. */
export async function verifiedDocumentTypes(db: Db, agentId: string): Promise<Set<DocumentType>> {
  const rows = await db.selectFrom('agent_documents').select('type').distinct().where('agent_id', '=', agentId).where('status', '=', 'verified').execute();
  return new Set(rows.map((r) => r.type));
}
