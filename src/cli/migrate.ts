import { loadConfig } from '../config/config.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

/** npm run migrate: applies pending migrations to DATABASE_URL and lists them. */
const config = loadConfig();
const database = createDatabase(config.DATABASE_URL);
try {
  const result = await migrateToLatest(database.db);
  const applied = result.results ?? [];
  console.log(applied.length ? applied.map((r) => `${r.status}: ${r.migrationName}`).join('\n') : 'already up to date');
} catch (error) {
  console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
