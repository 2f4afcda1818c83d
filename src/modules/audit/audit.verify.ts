import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { hashEvent } from './audit.repository.js';

export type ChainReport = { ok: true; events: number } | { ok: false; events: number; brokenAt: number; reason: string };

/**
 * Walks the chain in order, recomputing each hash from the previous one.
 * Reports the first event whose stored hash, link or sequence does not hold:
 * an edited, deleted or inserted row shows up there.
 */
export async function verifyAuditChain(db: Kysely<DB>, batchSize = 1000): Promise<ChainReport> {
  let prevHash = '0'.repeat(64);
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(batchSize).execute();
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, events: checked, brokenAt: expectedSeq, reason: `event ${expectedSeq} is missing` };
      if (row.prev_hash !== prevHash) return { ok: false, events: checked, brokenAt: row.seq, reason: 'link to the previous event does not match' };
      const { prev_hash: _p, hash, ...fields } = row;
      if (hashEvent(prevHash, { ...fields, occurred_at: new Date(row.occurred_at) }) !== hash) {
        return { ok: false, events: checked, brokenAt: row.seq, reason: 'content does not match its hash' };
      }
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < batchSize) break;
  }
  const head = await db.selectFrom('audit_chain_head').select(['seq', 'hash']).executeTakeFirst();
  if (head && (head.seq !== checked || (checked > 0 && head.hash !== prevHash))) {
    return { ok: false, events: checked, brokenAt: checked + 1, reason: 'the chain head does not match the last event (events removed from the end?)' };
  }
  return { ok: true, events: checked };
}
