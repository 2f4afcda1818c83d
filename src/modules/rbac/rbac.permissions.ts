import { ROLES, type Role } from '../../db/types.js';

/**
 * DOMAIN.md's permission matrix. Permissions grant actions; scope (see
 * rbac.scope.ts) decides rows. `*` matches everything, `policy.*` every
 * `policy.` permission and nothing else (not `policyx.read`).
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly string[]>> = {
  super_admin: ['*'],
  provider_admin: ['provider.*', 'agent.read', 'policy.*', 'user.*', 'customer.read', 'audit.read'],
  regional_manager: ['agent.*', 'policy.read', 'user.*', 'customer.read', 'audit.read'],
  senior_agent: ['agent.profile', 'policy.*', 'customer.*'],
  junior_agent: ['customer.*', 'policy.create'],
  policyholder: ['policy.read', 'profile.*'],
};

/** Higher number, higher role. A role manages only roles strictly below it. */
const RANK: Readonly<Record<Role, number>> = Object.fromEntries(ROLES.map((role, i) => [role, ROLES.length - i])) as Record<Role, number>;

export function rankOf(role: Role): number {
  return RANK[role];
}

export function outranks(actor: Role, target: Role): boolean {
  return RANK[actor] > RANK[target];
}

export function rolesBelow(actor: Role): Role[] {
  return ROLES.filter((role) => outranks(actor, role));
}

export function grantMatches(grant: string, permission: string): boolean {
  if (grant === '*' || grant === permission) return true;
  if (!grant.endsWith('.*')) return false;
  return permission.startsWith(grant.slice(0, -1));
}

export function hasPermission(role: Role, permission: string, extraGrants: readonly string[] = []): boolean {
  const grants = [...ROLE_PERMISSIONS[role], ...extraGrants];
  return grants.some((grant) => grantMatches(grant, permission));
}

export function permissionsOf(role: Role): string[] {
  return [...ROLE_PERMISSIONS[role]];
}
