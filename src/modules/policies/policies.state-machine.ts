/**
 * The policy lifecycle of DOMAIN.md as one table: every allowed move, who may
 * make it, the rule that must hold at that moment, and what it sets off.
 * A move missing from the table is INVALID_TRANSITION; nothing else in the
 * code decides which statuses follow which.
 */
import type { PolicyStatus } from '../../db/types.js';
import { addDays, addYears, kolkataDate } from './policies.dates.js';

/** Who may move a policy: its selling agent, an admin of its provider, or a super_admin. */
export type Mover = 'selling_agent' | 'provider_admin' | 'super_admin';
/** Time rules checked on the locked row. */
export type Guard = 'free_look' | 'revival_window';
/** What a move does besides changing the status. */
export type Effect = 'issue' | 'revive' | 'claw_back';

export interface TransitionRule {
  movers: readonly Mover[];
  guard?: Guard;
  effect?: Effect;
}

const AGENT: readonly Mover[] = ['selling_agent', 'super_admin'];
const ADMIN: readonly Mover[] = ['provider_admin', 'super_admin'];

export const POLICY_TRANSITIONS: Readonly<Record<PolicyStatus, Readonly<Partial<Record<PolicyStatus, TransitionRule>>>>> = {
  draft: { submitted: { movers: AGENT }, cancelled: { movers: AGENT } },
  submitted: { approved: { movers: ADMIN }, rejected: { movers: ADMIN } },
  approved: { active: { movers: ADMIN, effect: 'issue' } },
  active: {
    lapsed: { movers: ADMIN },
    surrendered: { movers: ADMIN },
    matured: { movers: ADMIN },
    cancelled: { movers: ADMIN, guard: 'free_look', effect: 'claw_back' },
  },
  lapsed: { active: { movers: ADMIN, guard: 'revival_window', effect: 'revive' }, terminated: { movers: ADMIN } },
  rejected: {},
  cancelled: {},
  surrendered: {},
  matured: {},
  terminated: {},
};

export const FREE_LOOK_DAYS = 30;
export const REVIVAL_YEARS = 5;

export function findTransition(from: PolicyStatus, to: PolicyStatus): TransitionRule | undefined {
  return POLICY_TRANSITIONS[from][to];
}

export function allowedTargets(from: PolicyStatus): PolicyStatus[] {
  return Object.keys(POLICY_TRANSITIONS[from]) as PolicyStatus[];
}

export interface GuardFacts {
  issued_at: Date | null;
  status_changed_at: Date;
}

/** Why the guard refuses the move now, or null when it holds. */
export function guardRefusal(guard: Guard | undefined, policy: GuardFacts, now: Date): string | null {
  const today = kolkataDate(now);
  if (guard === 'free_look') {
    const lastDay = policy.issued_at ? addDays(kolkataDate(policy.issued_at), FREE_LOOK_DAYS) : null;
    return lastDay && today <= lastDay ? null : `The ${FREE_LOOK_DAYS}-day free-look period ended on ${lastDay ?? 'issue'}; the policy can no longer be cancelled.`;
  }
  if (guard === 'revival_window') {
    const lastDay = addYears(kolkataDate(policy.status_changed_at), REVIVAL_YEARS);
    return today <= lastDay ? null : `A lapsed policy can be revived within ${REVIVAL_YEARS} years of lapse; that ended on ${lastDay}.`;
  }
  return null;
}
