import { describe, expect, it } from 'vitest';
import { grantMatches, hasPermission, outranks, rolesBelow } from './rbac.permissions.js';
import { escapeLike } from './rbac.scope.js';

describe('permission matching', () => {
  it('a wildcard grants its namespace and nothing that merely shares a prefix', () => {
    expect(grantMatches('policy.*', 'policy.read')).toBe(true);
    expect(grantMatches('policy.*', 'policy.transition.issue')).toBe(true);
    expect(grantMatches('policy.*', 'policyx.read')).toBe(false);
    expect(grantMatches('policy.*', 'policy')).toBe(false);
    expect(grantMatches('*', 'anything.at.all')).toBe(true);
    expect(grantMatches('policy.read', 'policy.readx')).toBe(false);
  });

  it('follows the DOMAIN.md matrix', () => {
    expect(hasPermission('super_admin', 'feature_flag.write')).toBe(true);
    expect(hasPermission('provider_admin', 'provider.update')).toBe(true);
    expect(hasPermission('provider_admin', 'agent.read')).toBe(true);
    expect(hasPermission('provider_admin', 'agent.approve')).toBe(false);
    expect(hasPermission('regional_manager', 'agent.approve')).toBe(true);
    expect(hasPermission('regional_manager', 'policy.create')).toBe(false);
    expect(hasPermission('senior_agent', 'policy.create')).toBe(true);
    expect(hasPermission('junior_agent', 'policy.create')).toBe(true);
    expect(hasPermission('junior_agent', 'policy.read')).toBe(false);
    expect(hasPermission('policyholder', 'policy.read')).toBe(true);
    expect(hasPermission('policyholder', 'customer.read')).toBe(false);
    expect(hasPermission('junior_agent', 'feature_flag.write')).toBe(false);
  });
});

describe('role hierarchy', () => {
  it('a role manages only roles strictly below it', () => {
    expect(outranks('super_admin', 'provider_admin')).toBe(true);
    expect(outranks('provider_admin', 'provider_admin')).toBe(false);
    expect(outranks('junior_agent', 'senior_agent')).toBe(false);
    expect(rolesBelow('regional_manager')).toEqual(['senior_agent', 'junior_agent', 'policyholder']);
    expect(rolesBelow('policyholder')).toEqual([]);
  });
});

describe('region paths in LIKE', () => {
  it('escapes wildcards so a path matches literally', () => {
    expect(escapeLike('IN/MH_1/%')).toBe('IN/MH\\_1/\\%');
  });
});
