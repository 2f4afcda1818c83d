import type { Kysely } from 'kysely';
import type { DB, Role } from './db/types.js';
import { appendAuditEvent, SYSTEM_CONTEXT } from './modules/audit/audit.repository.js';
import type { PasswordHasher } from './modules/auth/auth.passwords.js';
import type { Clock } from './shared/clock.js';
import { newId } from './shared/ids.js';
import { normalizePhone } from './shared/phone.js';

export interface NewAccount {
  phone: string;
  password: string;
  fullName: string;
  role: Role;
  email?: string | null;
  providerId?: string | null;
  regionId?: string | null;
}

/**
 * Creates an active, verified account directly (first admin, CLI, demo data).
 * Returns the id, or null when the phone is already taken.
 */
export async function createAccount(db: Kysely<DB>, hasher: PasswordHasher, clock: Clock, account: NewAccount): Promise<string | null> {
  const phone = normalizePhone(account.phone);
  if (!phone) throw new Error(`not a valid phone number: ${account.phone}`);
  const passwordHash = await hasher.hash(account.password);
  const now = clock.now();
  return db.transaction().execute(async (trx) => {
    // Several instances may bootstrap at once: the loser of the unique-phone race simply finds the account made.
    const claimed = await trx.insertInto('users').values({
      id: newId(now.getTime()), phone_number: phone, email: account.email ?? null, full_name: account.fullName, password_hash: passwordHash, role: account.role,
      status: 'active', phone_verified_at: now, password_changed_at: now, provider_id: account.providerId ?? null, region_id: account.regionId ?? null,
      created_at: now, updated_at: now,
    }).onConflict((oc) => oc.column('phone_number').doNothing()).returning('id').executeTakeFirst();
    if (!claimed) return null;
    const id = claimed.id;
    await appendAuditEvent(trx, SYSTEM_CONTEXT, { action: 'user.created', entityType: 'user', entityId: id, changes: { role: account.role, via: 'bootstrap' } }, now);
    return id;
  });
}

/** BOOTSTRAP_ADMIN_*: the first super_admin, created only when none exists. */
export async function ensureBootstrapAdmin(db: Kysely<DB>, hasher: PasswordHasher, clock: Clock, phone: string, password: string): Promise<'created' | 'exists'> {
  const existing = await db.selectFrom('users').select('id').where('role', '=', 'super_admin').where('status', '!=', 'deleted').executeTakeFirst();
  if (existing) return 'exists';
  const id = await createAccount(db, hasher, clock, { phone, password, fullName: 'Administrator', role: 'super_admin' });
  return id ? 'created' : 'exists';
}
