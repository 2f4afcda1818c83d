/**
 * Commissions a policy earns. The basis is the premium net of tax for one
 * policy year (instalment × instalments per year); each amount is
 * basis × rate / 10000 rounded half-up to the paise. The selling agent earns
 * first_year_bp on issue and renewal_bp on each renewal; its manager earns
 * override_bp on both when the provider's schedule has one.
 */
import type { Insertable, Transaction } from 'kysely';
import type { CommissionsTable, DB, ProductKind } from '../../db/types.js';
import { applyBasisPoints, toBigInt, toSafeInteger } from '../../shared/money.js';
import { newId } from '../../shared/ids.js';
import { findEffectiveCommissionRule } from '../providers/providers.repository.js';
import { INSTALMENTS_PER_YEAR } from './premium.js';
import { findSeller, insertCommissions } from './policies.repository.js';
import type { CommissionRow, PolicyRow } from './policies.schemas.js';

export type EarnedKind = 'first_year' | 'renewal';
export interface CommissionRule { first_year_bp: number; renewal_bp: number; override_bp: number | null }

export interface CommissionPlan {
  agent_id: string;
  kind: CommissionsTable['kind'];
  policy_year: number;
  basis_paise: number;
  rate_bp: number;
  amount_paise: number;
}

/** The annual premium net of tax: what every commission of a policy year is a share of. */
export function commissionBasis(policy: Pick<PolicyRow, 'installment_paise' | 'premium_mode'>): number {
  return toSafeInteger(toBigInt(policy.installment_paise, 'installment_paise') * BigInt(INSTALMENTS_PER_YEAR[policy.premium_mode]), 'basis_paise');
}

function share(agentId: string, kind: CommissionPlan['kind'], policyYear: number, basis: number, rateBp: number): CommissionPlan {
  const amount = toSafeInteger(applyBasisPoints(toBigInt(basis, 'basis_paise'), rateBp), 'amount_paise');
  return { agent_id: agentId, kind, policy_year: policyYear, basis_paise: basis, rate_bp: rateBp, amount_paise: amount };
}

/** Pure: who earns what for one policy year under a schedule. */
export function planCommissions(
  rule: CommissionRule,
  seller: { agentId: string; managerAgentId: string | null },
  kind: EarnedKind,
  policyYear: number,
  basis: number,
): CommissionPlan[] {
  const plans = [share(seller.agentId, kind, policyYear, basis, kind === 'first_year' ? rule.first_year_bp : rule.renewal_bp)];
  if (rule.override_bp !== null && seller.managerAgentId) {
    plans.push(share(seller.managerAgentId, 'override', policyYear, basis, rule.override_bp));
  }
  return plans;
}

/**
 * Earns the commissions of one policy year inside the caller's transaction.
 * Returns only the rows this call created: a repeat earns nothing twice.
 */
export async function earnCommissions(
  trx: Transaction<DB>,
  policy: Pick<PolicyRow, 'id' | 'agent_id' | 'provider_id' | 'installment_paise' | 'premium_mode'>,
  productKind: ProductKind,
  kind: EarnedKind,
  policyYear: number,
  now: Date,
): Promise<CommissionRow[]> {
  const rule = await findEffectiveCommissionRule(trx, policy.provider_id, productKind);
  if (!rule) return [];
  const seller = await findSeller(trx, policy.agent_id, policy.provider_id);
  const plans = planCommissions(rule, { agentId: seller.id, managerAgentId: seller.manager_agent_id }, kind, policyYear, commissionBasis(policy));
  const rows: Insertable<CommissionsTable>[] = plans.map((plan) => ({ ...plan, id: newId(now.getTime()), policy_id: policy.id, earned_at: now, created_at: now }));
  return insertCommissions(trx, rows);
}
