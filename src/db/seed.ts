import type { Kysely } from 'kysely';
import { createAccount } from '../bootstrap.js';
import type { PasswordHasher } from '../modules/auth/auth.passwords.js';
import type { Clock } from '../shared/clock.js';
import type { DB, Role } from './types.js';

/** The demo accounts README lists; one per role, all with the same demo password. */
export const DEMO_PASSWORD = 'bima demo password 2026';
export const DEMO_ACCOUNTS: ReadonlyArray<{ phone: string; fullName: string; role: Role; email: string }> = [
  { phone: '+919800000001', fullName: 'Sunita Rao', role: 'super_admin', email: 'admin@demo.bima.in' },
  { phone: '+919800000002', fullName: 'Farhan Sheikh', role: 'provider_admin', email: 'provider.admin@demo.bima.in' },
  { phone: '+919800000003', fullName: 'Meera Iyer', role: 'regional_manager', email: 'manager@demo.bima.in' },
  { phone: '+919800000004', fullName: 'Arjun Patel', role: 'senior_agent', email: 'senior.agent@demo.bima.in' },
  { phone: '+919800000005', fullName: 'Kavya Nair', role: 'junior_agent', email: 'junior.agent@demo.bima.in' },
  { phone: '+919800000006', fullName: 'Ravi Kumar', role: 'policyholder', email: 'policyholder@demo.bima.in' },
];

/** Seeds demo data into an empty database; does nothing once any user exists. */
export async function seedDemoData(db: Kysely<DB>, hasher: PasswordHasher, clock: Clock): Promise<boolean> {
  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) return false;
  for (const account of DEMO_ACCOUNTS) {
    await createAccount(db, hasher, clock, { ...account, password: DEMO_PASSWORD });
  }
  return true;
}
