import type { VerifyRate } from './argon2-rate.js';
import { cpuText } from './cpu.js';
import type { Measurement } from './load.js';
import { median, type StartTimes } from './pglite-start.js';
import type { StormResult } from './storm.js';

export interface RunReport {
  mode: 'quick' | 'full';
  command: string;
  startedAt: Date;
  finishedAt: Date;
  machine: { cores: number; cpuModel: string; memoryGb: number; node: string; os: string; postgres: string; redis: string; loadStart: number[]; loadEnd: number[] };
  /** The commit measured, and whether the working tree differed from it. */
  code?: { commit: string; dirty: boolean };
  sizes: Record<string, number>;
  durationS: number;
  warmupS: number;
  connections: number[];
  apiEnv: Record<string, string>;
  seedSeconds: Record<string, number>;
  /** scenario key → request description. */
  requests: Record<string, string>;
  /** connections → measurements, the reference first. */
  results: Map<number, Measurement[]>;
  verifyRates: VerifyRate[];
  storm: StormResult | null;
  memory: { idleRssMb: number; minIdleRssMb: number; idleAgeS: number; afterLoadRssMb: number; peakRssMb: number; otherIdleRssMb: number; otherMinIdleRssMb: number } | null;
  /** The command the load ran against, and the API's other form (compiled build or npm start's bundle). */
  apiCommand: string;
  otherCommand: string;
  /** PGlite start-to-ready of `npm start` (its bundle) and of the compiled build. */
  startTimes: StartTimes | null;
  compiledStartTimes: StartTimes | null;
  slowQueries: Array<{ sql: string; count: number; maxMs: number }>;
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${f(a / b, 2)}×` : 'n/a');
const verdict = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? '**met**' : '**not met**');
const samples = (m: Measurement) => (m.server ? `${m.server.dbInFlightMax} / ${f(m.server.dbInFlightMean)}, ${f(m.server.loopLagP99MaxMs, 0)} ms` : '');
const cores = (m: Measurement) => (m.cpu ? cpuText(m.cpu) : '');
const codes = (m: Measurement) => Object.entries(m.statusCodes).map(([code, count]) => `${code}: ${count}`).join(', ');

function scenarioTable(rows: Measurement[], requests: Record<string, string>): string[] {
  const ref = rows[0]!;
  const lines = [
    '| scenario | 2xx/s | × ref | p50 ms (× ref) | p95 ms (× ref) | p99 ms (× ref) | connections answered | non-2xx | errors (timeouts) | status codes | API: DB queries in flight max / mean, loop lag p99 max | cores used |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
  ];
  for (const m of rows) {
    const lat = (v: number, r: number) => `${f(v)} (${ratio(v, r)})`;
    lines.push(`| ${m.name} | ${f(m.okRps, 0)} | ${ratio(m.okRps, ref.okRps)} | ${lat(m.p50, ref.p50)} | ${lat(m.p95, ref.p95)} | ${lat(m.p99, ref.p99)} | ${m.answered ?? 'n/a'} | ${m.non2xx} | ${m.errors} (${m.timeouts}) | ${codes(m)} | ${samples(m)} | ${cores(m)} |`);
  }
  const notes = rows.flatMap((m) => m.notes.map((n) => `- ${m.name}: ${n}`));
  return [...lines, '', ...rows.map((m) => `- ${m.name}: \`${requests[m.name] ?? ''}\``), ...notes];
}

function targets(r: RunReport): string[] {
  const best = Math.max(...r.verifyRates.map((v) => v.perSecond));
  const loginRows = [...r.results.entries()].map(([c, rows]) => [c, rows.find((m) => m.name === 'login')] as const).filter(([, m]) => m);
  // Each login level against the raw rate measured just before it (older reports: the best rate at the run's start).
  const rawFor = (m: Measurement) => m.rawVerifyPerSecond ?? best;
  const loginText = loginRows.map(([c, m]) => `${f(m!.okRps)} logins/s at ${c} conn. = ${ratio(m!.okRps, rawFor(m!))} of ${f(rawFor(m!))}/s`).join('; ');
  const loginOk = loginRows.length && r.verifyRates.length ? loginRows.every(([, m]) => m!.okRps >= 0.9 * rawFor(m!)) : null;
  const basis = loginRows.some(([, m]) => m!.rawVerifyPerSecond !== undefined)
    ? ` (each against the raw rate measured just before it, 2 in flight with the API idle; at the run's start the best was ${f(best)}/s)`
    : ' (the best raw rate at the run\'s start)';
  const start = (t: StartTimes | null, label: string) => {
    if (!t) return `| PGlite start-to-ready < 3 s, ${label} | n/a | not measured |`;
    const cold = median(t.coldMs);
    const warm = median(t.warmMs);
    return `| PGlite start-to-ready < 3 s, ${label} | ${f(warm / 1000, 2)} s restart, ${f(cold / 1000, 2)} s fresh directory (medians of 3); ${f(t.firstMs / 1000, 2)} s the first start on the machine${t.prepareMs === null ? '' : ` (after npm install's ${f(t.prepareMs / 1000, 1)} s preparation)`} | restart ${verdict(warm < 3000)}, fresh ${verdict(cold < 3000)}, first ${verdict(t.firstMs < 3000)} |`;
  };
  return [
    '| target (issue 8) | measured | verdict |',
    '| --- | --- | --- |',
    `| login ≥ 0.9× raw argon2id verify rate | ${loginText ? loginText + basis : 'n/a'} | ${verdict(loginOk)} |`,
    `| login storm: read p95 storm/quiet < 2× | ${r.storm ? `${f(r.storm.p95Ratio, 2)}× (${f(r.storm.quiet.p95)} → ${f(r.storm.storm.p95)} ms)` : 'n/a'} | ${verdict(r.storm ? r.storm.p95Ratio < 2 : null)} |`,
    `| idle RSS < 150 MB, \`${r.apiCommand}\` | ${r.memory ? `${f(r.memory.minIdleRssMb)} MB settled (lowest while idle, to ${f(r.memory.idleAgeS, 0)} s after start); ${f(r.memory.idleRssMb)} MB 3 s after seeding` : 'n/a'} | settled ${verdict(r.memory ? r.memory.minIdleRssMb < 150 : null)}, at 3 s ${verdict(r.memory ? r.memory.idleRssMb < 150 : null)} |`,
    `| idle RSS < 150 MB, \`${r.otherCommand}\` | ${r.memory ? `${f(r.memory.otherMinIdleRssMb)} MB settled; ${f(r.memory.otherIdleRssMb)} MB 3 s after start` : 'n/a'} | settled ${verdict(r.memory ? r.memory.otherMinIdleRssMb < 150 : null)}, at 3 s ${verdict(r.memory ? r.memory.otherIdleRssMb < 150 : null)} |`,
    start(r.startTimes, '`npm start` (scripts/start.mjs)'),
    start(r.compiledStartTimes, 'compiled build'),
  ];
}

/**
 * Where each sign-in's CPU went, from the cores each group used during the
 * login run divided by the logins served, beside what one verify costs alone
 * (the raw measurement just before). Everything on the machine shares its
 * cores, so the login rate cannot pass cores / (CPU per login, all groups);
 * the last column is that bound if the API spent nothing on a sign-in but
 * the raw verify: what the database, Redis and the load generator leave.
 */
function loginCpuSection(r: RunReport): string[] {
  const rows = [...r.results.entries()].flatMap(([c, ms]) => ms.filter((m) => m.name === 'login' && m.cpu && m.rawVerifyCpuMs && m.okRps > 0).map((m) => [c, m] as const));
  if (!rows.length) return [];
  const lines = [
    '## Login: where each sign-in\'s CPU went', '',
    `CPU milliseconds per sign-in served, from the cores each process used during the login run (${r.machine.cores} cores in all).`,
    '"Other API threads" are the hash workers, V8\'s GC helpers and libuv\'s threads. The ceiling is the login rate the machine would allow',
    'if the API spent nothing on a sign-in beyond one raw verify: cores / (raw verify + PostgreSQL + Redis + load generator per sign-in).', '',
    '| connections | logins/s | API main thread | other API threads | PostgreSQL | Redis | load generator | all | one raw verify | ceiling (× raw rate) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [connections, m] of rows) {
    const per = (cores: number) => (cores * 1000) / m.okRps;
    const cpu = m.cpu!;
    const outside = per(cpu.postgres) + per(cpu.redis) + per(cpu.load);
    const raw = m.rawVerifyCpuMs!;
    const ceiling = Math.min(m.rawVerifyPerSecond ?? Infinity, (r.machine.cores * 1000) / (raw + outside));
    const all = per(cpu.api) + outside;
    lines.push(`| ${connections} | ${f(m.okRps)} | ${f(per(cpu.apiMain), 2)} | ${f(per(cpu.api - cpu.apiMain), 2)} | ${f(per(cpu.postgres), 2)} | ${f(per(cpu.redis), 2)} | ${f(per(cpu.load), 2)} | ${f(all, 2)} | ${f(raw, 2)} | ${f(ceiling)}/s (${ratio(ceiling, m.rawVerifyPerSecond ?? NaN)}) |`);
  }
  return [...lines, ''];
}

function stormSection(s: StormResult): string[] {
  const row = (m: Measurement) => `| ${m.name} | ${m.connections} | ${f(m.okRps, 0)} | ${f(m.p50)} | ${f(m.p95)} | ${f(m.p99)} | ${m.non2xx} | ${m.errors} | ${codes(m)} | ${samples(m)} | ${cores(m)} |`;
  return [
    '| run | connections | 2xx/s | p50 ms | p95 ms | p99 ms | non-2xx | errors | status codes | API: DB queries in flight max / mean, loop lag p99 max | cores used |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    row(s.quiet), row(s.storm), row(s.flood),
    '', `Read p95 during the storm / alone: **${f(s.p95Ratio, 2)}×**.`,
  ];
}

export function renderReport(r: RunReport): string {
  const m = r.machine;
  const wall = (r.finishedAt.getTime() - r.startedAt.getTime()) / 1000;
  const label = r.mode === 'quick' ? 'QUICK run (development sizes and durations: indicative only)' : 'FULL run';
  const out = [
    '# Bima API benchmark report', '',
    `> **${label}** — generated by \`${r.command}\` on ${r.startedAt.toISOString()}. Raw figures: \`bench/results/\`.`, '',
    '## Machine and run', '',
    '| | |', '| --- | --- |',
    `| CPU | ${m.cores} cores, ${m.cpuModel} |`, `| memory | ${f(m.memoryGb)} GB |`, `| Node.js | ${m.node} |`, `| OS | ${m.os} |`,
    `| PostgreSQL / Redis | ${m.postgres} / ${m.redis} (local) |`,
    ...(r.code ? [`| code | commit \`${r.code.commit}\`${r.code.dirty ? ' plus uncommitted changes' : ''} |`] : []),
    `| load average (1/5/15 min) at start → end | ${m.loadStart.map((x) => f(x, 2)).join(' / ')} → ${m.loadEnd.map((x) => f(x, 2)).join(' / ')} |`,
    `| date | ${r.startedAt.toISOString()} → ${r.finishedAt.toISOString()} (${f(wall / 60)} min wall) |`,
    `| per scenario | ${r.durationS} s measured after a ${r.warmupS} s warm-up (not counted), at ${r.connections.join(' and ')} connections |`,
    `| data | ${Object.entries(r.sizes).map(([k, v]) => `${v.toLocaleString('en-US')} ${k}`).join(', ')} |`,
    `| seeding | ${Object.entries(r.seedSeconds).map(([k, v]) => `${k} ${f(v)} s`).join(', ')} |`,
    `| API environment | ${Object.entries(r.apiEnv).map(([k, v]) => `\`${k}=${v}\``).join(' ')} |`,
    '', '## Targets', '', ...targets(r), '',
    '## Throughput and latency against the reference server', '',
    'Throughput counts 2xx answers only; latencies are of 2xx answers; "× ref" divides by the reference server at the same connection count',
    '(throughput: higher is better, 1.00× = as fast as the bare minimum; latency: lower is better).',
    '"Connections answered" counts the connections that had at least one answer in the measured run: a Node server whose event loop is saturated',
    'accepts about one new connection per turn of the loop, so the others wait in the kernel\'s accept queue, and the latencies are those of the connections served.', '',
  ];
  for (const [connections, rows] of r.results) out.push(`### ${connections} connections`, '', ...scenarioTable(rows, r.requests), '');
  out.push('## Raw argon2id verify rate (m=19456, t=2, p=1)', '',
    '| concurrency | verifies | seconds | verifies/s | mean ms per verify | CPU ms per verify |', '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.verifyRates.map((v) => `| ${v.concurrency} | ${v.verifies} | ${f(v.seconds)} | ${f(v.perSecond)} | ${f(v.meanMs)} | ${f(v.cpuMsPerVerify, 2)} |`),
    '', 'Measured on libuv threads at normal priority, with nothing else running. The API hashes on HASH_CONCURRENCY (default 2) worker threads at nice 19, so everything else it does comes first.', '');
  out.push(...loginCpuSection(r));
  if (r.storm) out.push('## Login storm', '', ...stormSection(r.storm), '');
  if (r.memory) {
    out.push('## Memory of the API process', '',
      `- idle, 3 s after start and seeding: **${f(r.memory.idleRssMb)} MB** RSS (the young generation still holds start-up garbage)`,
      `- lowest while still idle, until ${f(r.memory.idleAgeS, 0)} s after spawn: ${f(r.memory.minIdleRssMb)} MB (V8 may return unused heap 30-40 s into idleness)`,
      `- after all load scenarios: ${f(r.memory.afterLoadRssMb)} MB RSS; peak (VmHWM): ${f(r.memory.peakRssMb)} MB`,
      `- \`${r.otherCommand}\` on the same database: **${f(r.memory.otherIdleRssMb)} MB** RSS 3 s after start, lowest ${f(r.memory.otherMinIdleRssMb)} MB while idle`,
      '', `The load ran against \`${r.apiCommand}\`. \`npm start\` runs one esbuild bundle of the server and its plain-JavaScript dependencies; the compiled build (what the Dockerfile runs) is tsc's output, file by file.`, '');
  }
  for (const [times, command] of [[r.startTimes, 'node scripts/start.mjs` (`npm start`'], [r.compiledStartTimes, 'node dist/src/server.js']] as const) {
    if (!times) continue;
    out.push(`## Start-to-ready on PGlite: \`${command}\``, '', 'Spawn (SEED_DEMO_DATA=false) until `/health/ready` answers 200.', '',
      ...(times.prepareMs === null
        ? [`- the first start on the machine (no template: PGlite's initdb and every migration, then the template is kept): **${f(times.firstMs, 0)} ms**`]
        : [`- npm install's preparation (postinstall: the bundle, then PGlite's initdb and every migration, kept as the template): ${f(times.prepareMs, 0)} ms`,
          `- the first start on the machine, after it: **${f(times.firstMs, 0)} ms**`]),
      `- fresh directory from the template (dev key created): ${times.coldMs.map((x) => f(x, 0)).join(', ')} ms → median **${f(median(times.coldMs), 0)} ms**`,
      `- existing directory (restart): ${times.warmMs.map((x) => f(x, 0)).join(', ')} ms → median **${f(median(times.warmMs), 0)} ms**`, '');
  }
  if (r.slowQueries.length) {
    out.push('## Slow queries the API logged (SLOW_QUERY_MS)', '', '| count | max ms | statement |', '| ---: | ---: | --- |',
      ...r.slowQueries.map((q) => `| ${q.count} | ${f(q.maxMs, 0)} | \`${q.sql.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 240)}\` |`), '');
  }
  return out.join('\n');
}
