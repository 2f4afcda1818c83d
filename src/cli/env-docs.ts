import { writeFileSync } from 'node:fs';
import { EnvSchema } from '../config/config.js';

/** npm run docs:env: regenerates the variable table in docs/environment.md from the config schema. */
type Prop = { description?: string; default?: unknown; enum?: unknown[]; anyOf?: Array<{ const?: unknown }> };
const rows = Object.entries(EnvSchema.properties as Record<string, Prop>).map(([name, prop]) => {
  const required = (EnvSchema.required as readonly string[] | undefined ?? []).includes(name) && prop.default === undefined;
  const dflt = prop.default === undefined ? (required ? 'required' : 'unset') : `\`${String(prop.default)}\``;
  return `| \`${name}\` | ${(prop.description ?? '').replaceAll('|', '\\|')} | ${dflt} |`;
});
const text = `# Environment variables

Generated from \`src/config/config.ts\` by \`npm run docs:env\`; do not edit by hand.
A bad value stops the start with one message naming the variable.

| variable | meaning | default |
| --- | --- | --- |
${rows.join('\n')}
`;
writeFileSync(new URL('../../docs/environment.md', import.meta.url), text);
console.log(`docs/environment.md: ${rows.length} variables`);
