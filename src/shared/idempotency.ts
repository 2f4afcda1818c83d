import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/types.js';
import { AppError } from './errors.js';

export interface IdempotencyScope {
  userId: string;
  key: string | undefined;
  method: string;
  path: string;
  body: unknown;
}

export interface StoredResponse<T> {
  status: number;
  body: T;
  replayed: boolean;
}

const KEY_RE = /^[A-Za-z0-9_.:-]{8,128}$/;

/**
 * Runs a create at most once per (user, Idempotency-Key). The key row is
 * written in the same transaction as the record it creates, so either both
 * exist or neither; a concurrent retry waits on the key's unique index and
 * then replays the first answer. Reusing a key for a different request is a 422.
 */
export async function runIdempotent<T>(
  db: Kysely<DB>,
  scope: IdempotencyScope,
  create: (trx: Transaction<DB>) => Promise<{ status: number; body: T }>,
): Promise<StoredResponse<T>> {
  if (scope.key === undefined) {
    const result = await db.transaction().execute(create);
    return { ...result, replayed: false };
  }
  if (!KEY_RE.test(scope.key)) {
    throw new AppError('VALIDATION_FAILED', 422, 'Idempotency-Key must be 8 to 128 letters, digits or ._:-', { errors: [{ path: '/headers/idempotency-key', message: 'is not valid' }] });
  }
  const requestHash = createHash('sha256').update(`${scope.method} ${scope.path}\n${JSON.stringify(scope.body ?? null)}`).digest('hex');
  return db.transaction().execute(async (trx) => {
    const claimed = await trx
      .insertInto('idempotency_keys')
      .values({ user_id: scope.userId, key: scope.key!, method: scope.method, path: scope.path, request_hash: requestHash })
      .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (!claimed) return replay<T>(trx, scope, requestHash);
    const result = await create(trx);
    await trx.updateTable('idempotency_keys').set({ status_code: result.status, response_body: JSON.stringify(result.body) })
      .where('user_id', '=', scope.userId).where('key', '=', scope.key!).execute();
    return { ...result, replayed: false };
  });
}

async function replay<T>(trx: Transaction<DB>, scope: IdempotencyScope, requestHash: string): Promise<StoredResponse<T>> {
  const stored = await trx.selectFrom('idempotency_keys').selectAll().where('user_id', '=', scope.userId).where('key', '=', scope.key!).executeTakeFirstOrThrow();
  if (stored.request_hash !== requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 422, 'This Idempotency-Key was used for a different request.');
  }
  if (stored.status_code === null) throw new AppError('CONFLICT', 409, 'The first request with this Idempotency-Key is still running.');
  return { status: stored.status_code, body: stored.response_body as T, replayed: true };
}
