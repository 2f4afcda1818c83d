import { loadConfig } from '../config/config.js';
import { createDatabase } from '../db/database.js';
import { verifyAuditChain } from '../modules/audit/audit.verify.js';

/** npm run audit:verify: checks the audit hash chain; exit 1 and the first broken link if tampered. */
const config = loadConfig();
const database = createDatabase(config.DATABASE_URL);
try {
  const report = await verifyAuditChain(database.db);
  if (report.ok) console.log(`audit chain intact: ${report.events} events`);
  else {
    console.error(`audit chain BROKEN at event ${report.brokenAt}: ${report.reason} (${report.events} events verified before it)`);
    process.exitCode = 1;
  }
} finally {
  await database.close();
}
