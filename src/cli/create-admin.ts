import { parseArgs } from 'node:util';
import { createAccount } from '../bootstrap.js';
import { loadConfig } from '../config/config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { checkPasswordStrength, PasswordHasher } from '../modules/auth/auth.passwords.js';
import { systemClock } from '../shared/clock.js';

/**
 * npm run create-admin -- --phone +919876543210 --name "Asha Verma" [--email a@b.in]
 * The password is read from ADMIN_PASSWORD, never from the command line (shell history).
 */
const { values } = parseArgs({ options: { phone: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } } });
const password = process.env.ADMIN_PASSWORD;
if (!values.phone || !values.name || !password) {
  console.error('usage: ADMIN_PASSWORD=... npm run create-admin -- --phone <phone> --name <full name> [--email <email>]');
  process.exit(64);
}
const config = loadConfig();
const database = createDatabase(config.DATABASE_URL);
try {
  await checkPasswordStrength(password, [values.phone, values.name, values.email ?? '']);
  await migrateToLatest(database.db);
  const id = await createAccount(database.db, new PasswordHasher(), systemClock, {
    phone: values.phone, password, fullName: values.name, role: 'super_admin', email: values.email ?? null,
  });
  console.log(id ? `created super_admin ${id}` : 'a user with this phone already exists; nothing changed');
  if (!id) process.exitCode = 1;
} catch (error) {
  console.error(`create-admin failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
