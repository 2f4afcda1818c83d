import type { UserRow, UserStatus } from '../../db/types.js';
import { AppError, forbidden } from '../../shared/errors.js';
import { outranks } from '../rbac/rbac.permissions.js';
import type { Actor } from '../rbac/rbac.scope.js';
import type { BulkAction } from './users.schemas.js';

/**
 * Account status moves an administrator may make. `deleted` is final (the
 * record stays for history); leaving pending_verification to `active` is the
 * user's own OTP step, never an administrator's.
 */
const TRANSITIONS: Readonly<Record<UserStatus, readonly UserStatus[]>> = {
  pending_verification: ['inactive', 'suspended', 'deleted'],
  active: ['inactive', 'suspended', 'deleted'],
  inactive: ['active', 'suspended', 'deleted'],
  suspended: ['active', 'inactive', 'deleted'],
  deleted: [],
};

export function canTransition(from: UserStatus, to: UserStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: UserStatus, to: UserStatus): void {
  if (!canTransition(from, to)) {
    throw new AppError('INVALID_TRANSITION', 409, `A ${from} account cannot become ${to}.`);
  }
}

/** A user in one of these states must not keep a working session. */
export function endsSessions(status: UserStatus): boolean {
  return status === 'inactive' || status === 'suspended' || status === 'deleted';
}

export const BULK_TARGET: Readonly<Record<BulkAction, UserStatus>> = {
  activate: 'active',
  deactivate: 'inactive',
  suspend: 'suspended',
  delete: 'deleted',
};

/** Why an administrator may not act on this (visible) user, or null when it may. */
export function manageRefusal(actor: Actor, target: UserRow): AppError | null {
  if (target.id === actor.userId) return forbidden('Nobody changes their own role or status.');
  if (!outranks(actor.role, target.role)) return forbidden('You can only manage users whose role is below yours.');
  return null;
}

export function assertCanManage(actor: Actor, target: UserRow): void {
  const refusal = manageRefusal(actor, target);
  if (refusal) throw refusal;
}
