import { parseArgs } from 'node:util';
import type { SeedSizes } from './seed.js';

export interface BenchOptions {
  mode: 'quick' | 'full';
  sizes: SeedSizes;
  durationS: number;
  warmupS: number;
  connections: number[];
  /** Scenario keys to run (the reference always runs); empty: all. */
  only: string[];
  signInAgents: number;
  signInHolders: number;
  verifySeconds: number;
  stormFloodConnections: number;
  skipArgon2: boolean;
  skipPglite: boolean;
  skipStorm: boolean;
  keepDb: boolean;
  /** Write a V8 CPU profile of the API (bench/results/profiles/) for the whole run. */
  profile: boolean;
  /** Load the API as `npm start` runs it (scripts/start.mjs, an esbuild bundle) instead of the compiled build. */
  source: boolean;
  port: number;
  adminUrl: string;
  redisUrl: string;
  report: string;
  /** Extra API environment (--env KEY=VALUE), e.g. HASH_CONCURRENCY=1, to compare settings. */
  apiEnv: Record<string, string>;
}

export const USAGE = `usage: npm run bench -- [--quick] [--duration S] [--connections 100,1000] [--only me,login,...]
  [--skip-argon2] [--skip-pglite] [--skip-storm] [--keep-db] [--profile] [--source] [--port 3100] [--env KEY=VALUE ...]
  [--admin-url postgres://postgres@127.0.0.1:5432/postgres] [--redis-url redis://127.0.0.1:6379/12] [--report bench/REPORT.md]`;

const positive = (name: string, text: string, max: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, got ${text}`);
  return n;
};

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      connections: { type: 'string', default: '100,1000' },
      only: { type: 'string', default: '' },
      'skip-argon2': { type: 'boolean', default: false },
      'skip-pglite': { type: 'boolean', default: false },
      'skip-storm': { type: 'boolean', default: false },
      'keep-db': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      source: { type: 'boolean', default: false },
      port: { type: 'string', default: '3100' },
      'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
      'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379/12' },
      report: { type: 'string', default: 'bench/REPORT.md' },
      env: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  for (const url of [values['admin-url'], values['redis-url']]) {
    // The bench floods what it points at: local services only.
    if (!/^(postgres|redis):\/\/([^@/]*@)?(127\.0\.0\.1|localhost)(:\d+)?\//.test(url)) throw new Error(`only local services may be benchmarked, not ${url}`);
  }
  return {
    mode: quick ? 'quick' : 'full',
    sizes: quick ? { users: 10_000, agents: 1_000, customers: 5_000, policies: 20_000 } : { users: 100_000, agents: 10_000, customers: 50_000, policies: 200_000 },
    durationS: values.duration ? positive('duration', values.duration, 300) : quick ? 5 : 15,
    warmupS: quick ? 1 : 2,
    connections: values.connections.split(',').map((c) => positive('connections', c.trim(), 5000)),
    only: values.only.split(',').map((s) => s.trim()).filter(Boolean),
    signInAgents: quick ? 40 : 200,
    signInHolders: quick ? 20 : 100,
    verifySeconds: quick ? 3 : 10,
    stormFloodConnections: 200,
    skipArgon2: values['skip-argon2'],
    skipPglite: values['skip-pglite'],
    skipStorm: values['skip-storm'],
    keepDb: values['keep-db'],
    profile: values.profile,
    source: values.source,
    port: positive('port', values.port, 65_000),
    adminUrl: values['admin-url'],
    redisUrl: values['redis-url'],
    report: values.report,
    apiEnv: Object.fromEntries(values.env.map((pair) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
      if (!match) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
      return [match[1]!, match[2]!];
    })),
  };
}
