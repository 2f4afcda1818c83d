import { describe, expect, it } from 'vitest';
import { createDatabase } from './database.js';
import { migrateToLatest, migrations } from './migrate.js';
import { readTemplate, templatePath } from './pglite-template.js';

describe('the PGlite template', () => {
  it('is kept beside PGlite, named by its version and the migrations\' code', () => {
    const path = templatePath();
    expect(path).toMatch(/node_modules[/\\]\.cache[/\\]bima[/\\]pglite-\d+\.\d+\.\d+-[0-9a-f]{16}\.tar\.gz$/);
    expect(templatePath()).toBe(path);
  });

  it('a fresh database starts from it, already migrated, once one is kept', async () => {
    const first = createDatabase('pglite://memory');
    await migrateToLatest(first.db);
    await first.afterMigrations?.();
    await first.close();
    expect(readTemplate(templatePath())).not.toBeNull();

    const second = createDatabase('pglite://memory');
    // Started from the template: nothing to keep, nothing left to apply.
    expect(second.afterMigrations).toBeUndefined();
    const result = await migrateToLatest(second.db);
    expect(result.results).toEqual([]);
    const applied = await second.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    expect(applied.map((row) => (row as { name: string }).name)).toEqual(Object.keys(migrations));
    await second.close();
  });
});
