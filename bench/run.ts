/**
 * `npm run bench [-- --quick]`: seeds a fresh PostgreSQL database, starts the
 * API and a minimal reference server, measures every scenario at each
 * connection count, and writes bench/REPORT.md (see bench/README.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem, type } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { cores, hashPassword, measureVerifyRate, type VerifyRate } from './argon2-rate.js';
import { BENCH_PASSWORD, chooseUsers, createRefreshTokens, policiesOf, quoteBodies, signInAll, spread } from './fixtures.js';
import * as infra from './infra.js';
import { cpuText } from './cpu.js';
import { runLoad, type Measurement } from './load.js';
import { parseOptions, type BenchOptions } from './options.js';
import { measurePgliteStart, type StartTimes } from './pglite-start.js';
import { renderReport, type RunReport } from './report.js';
import { REFERENCE, SCENARIOS, type Fixtures, type Scenario } from './scenarios.js';
import { isActivePolicyholder, layout, seedDatabase } from './seed.js';
import { measureStorm } from './storm.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The API as deployed (the Dockerfile's CMD, `npm run start:prod`) and as `npm start` runs it (scripts/start.mjs: an esbuild bundle). */
const COMPILED = ['dist/src/server.js'];
const NPM_START = ['scripts/start.mjs'];
const RESULTS = join(ROOT, 'bench', 'results');
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  mkdirSync(RESULTS, { recursive: true });
  const logPath = join(RESULTS, `${stamp}-servers.log`);
  const loadStart = loadavg();
  console.log(`bima bench (${options.mode}): ${cores()} cores, load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}; logs: ${logPath}`);
  const ports = [options.port, options.port + 1, options.port + 2];
  for (const port of ports) await infra.assertPortFree(port);

  const buildMs = buildCompiled();
  console.log(`compiled build (tsc -p tsconfig.build.json) in ${buildMs.toFixed(0)} ms; npm start's bundle (scripts/start.mjs) in ${buildBundle().toFixed(0)} ms`);
  const apiArgs = options.source ? NPM_START : COMPILED;
  const otherArgs = options.source ? COMPILED : NPM_START;
  const storedHash = await hashPassword(BENCH_PASSWORD);
  const verifyRates = options.skipArgon2 ? [] : await argon2Rates(options, storedHash);
  const startTimes = options.skipPglite ? null : await pgliteStarts(options, logPath);
  const compiledStartTimes = options.skipPglite ? null : await pgliteStarts(options, logPath, COMPILED);

  const dbName = `bima_bench_${stamp.toLowerCase()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bima-bench-'));
  let dbCreated = false;
  const cleanup = async () => {
    await infra.stopAll();
    if (dbCreated && !options.keepDb) {
      await infra.dropDatabase(options.adminUrl, dbName).catch((e: unknown) => console.error('drop database:', e));
      await infra.flushRedis(options.redisUrl).catch((e: unknown) => console.error('flush Redis:', e));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const dbUrl = await infra.createDatabase(options.adminUrl, dbName);
    dbCreated = true;
    await infra.flushRedis(options.redisUrl);
    const versions = await infra.serverVersions(options.adminUrl, options.redisUrl);
    const apiEnv = {
      NODE_ENV: 'development', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false', HOST: '127.0.0.1', PORT: String(options.port),
      RATE_LIMIT_MAX: '1000000000', AUTH_RATE_LIMIT_MAX: '1000000000', ACCESS_TOKEN_TTL_S: '3600', ...options.apiEnv,
    };
    console.log(`starting the API on :${options.port} (database ${dbName}, Redis ${options.redisUrl})`);
    const apiUrl = `http://127.0.0.1:${options.port}`;
    const profiling = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`] : [];
    const api = infra.startNode([...profiling, ...apiArgs], { ...apiEnv, DATABASE_URL: dbUrl, REDIS_URL: options.redisUrl, DATA_DIR: dataDir }, logPath, ROOT);
    const spawnedAt = performance.now();
    const readyMs = await infra.waitFor200(`${apiUrl}/health/ready`, spawnedAt, 120_000, api);
    console.log(`API ready in ${readyMs.toFixed(0)} ms (migrations included); seeding ${JSON.stringify(options.sizes)}`);
    const seedSeconds = await seedDatabase(dbUrl, options.sizes, storedHash);
    await sleep(3000);
    const idle = await infra.idleMemory(api.pid, spawnedAt);
    console.log(`API idle RSS after seeding: ${idle.firstRssMb.toFixed(1)} MB (lowest until ${idle.ageS.toFixed(0)} s after spawn: ${idle.minRssMb.toFixed(1)} MB)`);
    const other = await idleRssOf(otherArgs, options, { ...apiEnv, DATABASE_URL: dbUrl, REDIS_URL: options.redisUrl, DATA_DIR: dataDir }, logPath);
    console.log(`${otherArgs.join(' ')} idle RSS: ${other.firstRssMb.toFixed(1)} MB 3 s after start, lowest ${other.minRssMb.toFixed(1)} MB`);

    const refPort = options.port + 1;
    const reference = infra.startNode(['--import', 'tsx', 'bench/reference-server.ts'], {
      PORT: String(refPort), DATABASE_URL: dbUrl, REDIS_URL: options.redisUrl, JWKS_FILE: join(dataDir, 'jwt-keys.json'), DATABASE_POOL_MAX: options.apiEnv.DATABASE_POOL_MAX ?? '10',
    }, logPath, ROOT);
    await infra.waitFor200(`http://127.0.0.1:${refPort}/health`, performance.now(), 60_000, reference);

    const scenarios = SCENARIOS.filter((s) => options.only.length === 0 || options.only.includes(s.key));
    // A second API on the same database, keys and Redis, with every page cache off: what each request costs when rendered.
    const uncachedUrl = `http://127.0.0.1:${options.port + 2}`;
    if (scenarios.some((s) => s.server === 'api-uncached')) {
      const uncached = infra.startNode(apiArgs, {
        ...apiEnv, PORT: String(options.port + 2), POLICY_LIST_CACHE_MB: '0', POLICY_DETAIL_CACHE_MB: '0', DATABASE_URL: dbUrl, REDIS_URL: options.redisUrl, DATA_DIR: dataDir,
      }, logPath, ROOT);
      await infra.waitFor200(`${uncachedUrl}/health/ready`, performance.now(), 60_000, uncached);
    }
    const urls = { api: apiUrl, 'api-uncached': uncachedUrl, reference: `http://127.0.0.1:${refPort}` };
    const fixtures = await prepareFixtures(options, apiUrl, dbUrl);
    const results = new Map<number, Measurement[]>();
    const saveRaw = (extra: Record<string, unknown> = {}) =>
      writeFileSync(join(RESULTS, `${stamp}.json`), JSON.stringify({ options, results: Object.fromEntries(results), verifyRates, startTimes, ...extra }, null, 2));
    for (const connections of options.connections) {
      const rows: Measurement[] = [];
      results.set(connections, rows);
      for (const scenario of [REFERENCE, ...scenarios]) {
        // The machine's speed drifts over a run (the raw rate at its start has ranged from 148 to 318/s on one
        // machine): login is held to a raw rate measured just before it, not minutes earlier.
        const raw = scenario.key === 'login' && !options.skipArgon2 ? await measureVerifyRate(storedHash, BENCH_PASSWORD, 2, options.verifySeconds) : null;
        if (raw) console.log(`  argon2id raw verify just before login, concurrency 2: ${raw.perSecond.toFixed(1)}/s, ${raw.cpuMsPerVerify.toFixed(2)} ms CPU each`);
        const measured = await measure(scenario, options, fixtures, connections, urls[scenario.server]);
        rows.push(raw ? { ...measured, rawVerifyPerSecond: raw.perSecond, rawVerifyCpuMs: raw.cpuMsPerVerify } : measured);
        saveRaw();
        await sleep(1000);
      }
    }
    const storm = options.skipStorm ? null : await measureStorm({
      apiUrl, root: ROOT, fixtures, readConnections: 100, floodConnections: options.stormFloodConnections, durationS: options.durationS,
    });
    const after = infra.memoryOf(api.pid);
    await reference.stop();
    await api.stop();
    saveRaw({ storm, memory: { idle, after } });

    const report: RunReport = {
      mode: options.mode, command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      startedAt, finishedAt: new Date(),
      machine: { cores: cores(), cpuModel: cpus()[0]?.model ?? '?', memoryGb: totalmem() / 2 ** 30, node: process.version, os: `${type()} ${release()}`,
        ...versions, loadStart, loadEnd: loadavg() },
      code: codeVersion(),
      sizes: { ...options.sizes }, durationS: options.durationS, warmupS: options.warmupS, connections: options.connections,
      apiEnv: { DATABASE_POOL_MAX: '10 (default)', DATABASE_PIPELINE_CONNECTIONS: '1 (default)', HASH_CONCURRENCY: '2 (default)', HASH_QUEUE_MAX: '128 (default)', HASH_SHED_DELAY_MS: '1000 (default)', CALLER_CACHE_TTL_S: '10 (default)', PRODUCT_CACHE_TTL_S: '60 (default)', ...apiEnv },
      apiCommand: `node ${apiArgs.join(' ')}`, otherCommand: `node ${otherArgs.join(' ')}`,
      seedSeconds, requests: Object.fromEntries([REFERENCE, ...SCENARIOS].map((s) => [s.key, s.request])), results, verifyRates,
      storm, memory: { idleRssMb: idle.firstRssMb, minIdleRssMb: idle.minRssMb, idleAgeS: idle.ageS, afterLoadRssMb: after.rssMb, peakRssMb: after.peakRssMb, otherIdleRssMb: other.firstRssMb, otherMinIdleRssMb: other.minRssMb }, startTimes, compiledStartTimes, slowQueries: slowQueries(logPath),
    };
    writeFileSync(resolve(ROOT, options.report), `${renderReport(report)}\n`);
    console.log(`\nreport written to ${options.report}`);
  } finally {
    await cleanup();
  }
}

async function argon2Rates(options: BenchOptions, storedHash: string): Promise<VerifyRate[]> {
  const rates: VerifyRate[] = [];
  for (const concurrency of [4, 2]) {
    const rate = await measureVerifyRate(storedHash, BENCH_PASSWORD, concurrency, options.verifySeconds);
    console.log(`argon2id raw verify, concurrency ${concurrency}: ${rate.perSecond.toFixed(1)}/s (mean ${rate.meanMs.toFixed(1)} ms, ${rate.cpuMsPerVerify.toFixed(2)} ms CPU)`);
    rates.push(rate);
  }
  return rates;
}

/** Idle RSS of the API in its other form (compiled, or npm start's bundle) on the same seeded database: 3 s after start, and its lowest until 60 s after spawn. */
async function idleRssOf(args: string[], options: BenchOptions, env: Record<string, string>, logPath: string): Promise<{ firstRssMb: number; minRssMb: number }> {
  const port = options.port + 2;
  const server = infra.startNode(args, { ...env, PORT: String(port) }, logPath, ROOT);
  try {
    const spawnedAt = performance.now();
    await infra.waitFor200(`http://127.0.0.1:${port}/health/ready`, spawnedAt, 60_000, server);
    await sleep(3000);
    return await infra.idleMemory(server.pid, spawnedAt);
  } finally {
    await server.stop();
  }
}

/** Compiles the TypeScript to dist/ as the Dockerfile does, so the bench measures what is deployed. */
function buildCompiled(): number {
  const started = performance.now();
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  return performance.now() - started;
}

/** npm start's bundle, built ahead like the compiled build (a start also builds it when stale; the first-start figure includes that). */
function buildBundle(): number {
  const started = performance.now();
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--build-only', '--rebuild'], { cwd: ROOT, stdio: 'inherit' });
  return performance.now() - started;
}

async function pgliteStarts(options: BenchOptions, logPath: string, args = NPM_START): Promise<StartTimes> {
  console.log(`PGlite start-to-ready, node ${args.join(' ')}:`);
  // npm install prepares the template (postinstall), which every form running from the checkout shares (pglite-template.ts).
  return measurePgliteStart(ROOT, options.port + 2, 3, logPath, args, ['scripts/start.mjs', '--prepare']);
}

async function prepareFixtures(options: BenchOptions, apiUrl: string, dbUrl: string): Promise<Fixtures> {
  const chosen = chooseUsers(options.sizes, options.signInAgents, options.signInHolders);
  const started = performance.now();
  const agents = await signInAll(apiUrl, chosen.agents);
  const holders = await signInAll(apiUrl, chosen.holders);
  console.log(`signed in ${agents.length} agents and ${holders.length} policyholders in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const policyReads = await policiesOf(dbUrl, agents, 5);
  const bodies = await quoteBodies(dbUrl);
  const loginUsers = spread(layout(options.sizes).firstPolicyholder, options.sizes.users, 20_000, isActivePolicyholder);
  // Generous: a fresh token per request for the warm-up and the run at up to 5000 refreshes/s (the report says if it ran out;
  // 2500/s ran out on a faster day).
  const perLevel = (options.durationS + options.warmupS) * 5000;
  const refreshTokens = new Map<number, string[]>();
  for (const connections of options.connections) refreshTokens.set(connections, await createRefreshTokens(dbUrl, perLevel));
  console.log(`fixtures: ${policyReads.length} policy reads, ${bodies.length} quote bodies, ${loginUsers.length} login users, ${perLevel} refresh tokens per level`);
  return { userTokens: [...agents, ...holders].map((s) => s.accessToken), agentTokens: agents.map((a) => a.accessToken), policyReads, quoteBodies: bodies, loginUsers, refreshTokens };
}

async function measure(scenario: Scenario, options: BenchOptions, fixtures: Fixtures, connections: number, url: string): Promise<Measurement> {
  const notes: string[] = [];
  const m = await runLoad({
    name: scenario.key, url, connections, durationS: options.durationS, warmupS: options.warmupS, requests: scenario.build(fixtures, connections, notes), notes,
    ...(scenario.server !== 'reference' ? { metricsUrl: `${url}/metrics` } : {}),
  });
  console.log(`${String(connections).padStart(5)} conn  ${scenario.key.padEnd(12)} ${m.okRps.toFixed(0).padStart(7)} 2xx/s  p50 ${m.p50.toFixed(1)}  p95 ${m.p95.toFixed(1)}  p99 ${m.p99.toFixed(1)} ms  non-2xx ${m.non2xx}  errors ${m.errors}${m.non2xx ? `  ${JSON.stringify(m.statusCodes)}` : ''}${
    m.server ? `  [db in flight max ${m.server.dbInFlightMax}, loop lag p99 max ${m.server.loopLagP99MaxMs.toFixed(0)} ms]` : ''}${m.cpu ? `  [cores: ${cpuText(m.cpu)}]` : ''}`);
  return m;
}

/** The API's "slow query" log lines, grouped by statement, most frequent first. */
function slowQueries(logPath: string): RunReport['slowQueries'] {
  const groups = new Map<string, { sql: string; count: number; maxMs: number }>();
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('"slow query"')) continue;
    try {
      const entry = JSON.parse(line) as { sql?: string; duration_ms?: number };
      const group = groups.get(entry.sql ?? '?') ?? { sql: entry.sql ?? '?', count: 0, maxMs: 0 };
      group.count += 1;
      group.maxMs = Math.max(group.maxMs, entry.duration_ms ?? 0);
      groups.set(group.sql, group);
    } catch {
      // not a JSON line
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, 10);
}

main().catch(async (error: unknown) => {
  console.error('bench failed:', error);
  await infra.stopAll();
  process.exit(1);
});

/** The commit under test, so a report names the code it measured; undefined outside a Git checkout. */
function codeVersion(): RunReport['code'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return undefined;
  }
}
