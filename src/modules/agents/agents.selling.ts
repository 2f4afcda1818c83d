import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { AppError } from '../../shared/errors.js';

/**
 * Selling (creating or issuing a policy) needs an active agent whose licence
 * has not expired on `today` (YYYY-MM-DD, India): DOMAIN.md. Call it inside the
 * transaction that writes the policy. Throws 422 BUSINESS_RULE_VIOLATED.
 */
export async function assertCanSell(db: Kysely<DB> | Transaction<DB>, agentId: string, today: string): Promise<void> {
  const agent = await db.selectFrom('agents').select(['status', 'license_expiry']).where('id', '=', agentId).executeTakeFirst();
  if (!agent || agent.status !== 'active') {
    throw new AppError('BUSINESS_RULE_VIOLATED', 422, `The agent is ${agent?.status ?? 'unknown'}; only an active agent may sell.`, {
      errors: [{ path: '/agent', message: 'must be an active agent' }],
    });
  }
  // A licence is valid through its expiry date.
  if (agent.license_expiry < today) {
    throw new AppError('BUSINESS_RULE_VIOLATED', 422, `The agent's licence expired on ${agent.license_expiry}; selling is blocked until it is renewed.`, {
      errors: [{ path: '/agent/license_expiry', message: 'has passed' }],
    });
  }
}
