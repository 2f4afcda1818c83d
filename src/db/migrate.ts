import type { Kysely } from 'kysely';
import type { DB } from './types.js';
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration';
import { withPinnedConnections } from './postgres-js.js';
import * as m0001 from './migrations/0001-foundation.js';
import * as m0002 from './migrations/0002-directory.js';
import * as m0003 from './migrations/0003-user-administration.js';
import * as m0004 from './migrations/0004-catalogue-and-customers.js';
import * as m0005 from './migrations/0005-policies.js';
import * as m0006 from './migrations/0006-security-events.js';
import * as m0007 from './migrations/0007-list-indexes.js';
import * as m0008 from './migrations/0008-room-for-hot-updates.js';
import * as m0009 from './migrations/0009-cache-generations.js';
import * as m0010 from './migrations/0010-policy-history-bumps.js';
import * as m0011 from './migrations/0011-customer-name-indexes.js';
import * as m0012 from './migrations/0012-verified-phone-bumps.js';

/**
 * Migrations are listed here rather than read from a folder so the same list
 * works from TypeScript sources and the compiled build. Never edit one that
 * has landed; add the next number.
 */
export const migrations: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-directory': m0002,
  '0003-user-administration': m0003,
  '0004-catalogue-and-customers': m0004,
  '0005-policies': m0005,
  '0006-security-events': m0006,
  '0007-list-indexes': m0007,
  '0008-room-for-hot-updates': m0008,
  '0009-cache-generations': m0009,
  '0010-policy-history-bumps': m0010,
  '0011-customer-name-indexes': m0011,
  '0012-verified-phone-bumps': m0012,
};

/**
 * Applies pending migrations. On PostgreSQL, Kysely holds an advisory lock for
 * the run, so instances starting together apply each migration once.
 */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  // The lock is session-level: its lock and unlock must use one connection (withPinnedConnections).
  const result = await withPinnedConnections(() => migrator.migrateToLatest());
  if (result.error) throw result.error;
  return result;
}
