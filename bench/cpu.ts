import { readdirSync, readFileSync } from 'node:fs';

/**
 * Where the cores went while a scenario ran: CPU time of the API, the
 * reference server, PostgreSQL (all its processes), Redis and the load
 * generator (this process: autocannon runs in it), read from /proc before and
 * after. On a 2-core machine these add up to at most 2; the split tells
 * whether a figure is bound by the API's event loop, by the database, or by
 * the box itself. Linux only; elsewhere every share is NaN.
 */
export type CpuGroup = 'api' | 'reference' | 'postgres' | 'redis' | 'load';
/** Cores per group, and of the API's, its main thread's (the event loop; the rest is hash workers, GC and libuv threads). */
export type CpuShares = Record<CpuGroup | 'apiMain', number>;

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

function classify(pid: number, comm: string, cmdline: string): CpuGroup | null {
  if (pid === process.pid) return 'load';
  if (comm === 'postgres') return 'postgres';
  if (comm === 'redis-server') return 'redis';
  if (cmdline.includes('reference-server')) return 'reference';
  if (cmdline.includes('src/server.')) return 'api';
  return null;
}

/** utime + stime of a /proc stat line; comm is in parentheses and may itself hold spaces or parentheses: split after the last ')'. */
function statTicks(stat: string): { comm: string; ticks: number } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return { comm: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

function snapshot(): Map<number, { group: CpuGroup; ticks: number; mainTicks: number }> {
  const seen = new Map<number, { group: CpuGroup; ticks: number; mainTicks: number }>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return seen;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const { comm, ticks } = statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const group = classify(pid, comm, cmdline);
      // The main thread's task id is the process id.
      const mainTicks = group === 'api' ? statTicks(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')).ticks : 0;
      if (group) seen.set(pid, { group, ticks, mainTicks });
    } catch {
      // the process ended between readdir and read
    }
  }
  return seen;
}

/** Starts counting; stop() returns cores used per group (CPU seconds per wall second). */
export function startCpuAccounting() {
  const before = snapshot();
  const startedAt = process.hrtime.bigint();
  return {
    stop(): CpuShares {
      const after = snapshot();
      const wallS = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const shares: CpuShares = { api: 0, apiMain: 0, reference: 0, postgres: 0, redis: 0, load: 0 };
      if (after.size === 0) return { api: NaN, apiMain: NaN, reference: NaN, postgres: NaN, redis: NaN, load: NaN };
      for (const [pid, { group, ticks, mainTicks }] of after) {
        // A process born during the run counts from zero.
        shares[group] += (ticks - (before.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND / wallS;
        shares.apiMain += (mainTicks - (before.get(pid)?.mainTicks ?? 0)) / TICKS_PER_SECOND / wallS;
      }
      return shares;
    },
  };
}

/** "API 0.93 (main thread 0.81), PostgreSQL 0.61, Redis 0.02, load 0.40" — groups that used nothing are left out. */
export function cpuText(shares: CpuShares): string {
  const names: Record<CpuGroup, string> = { api: 'API', reference: 'reference', postgres: 'PostgreSQL', redis: 'Redis', load: 'load' };
  const share = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v.toFixed(2) : 'n/a');
  return (Object.keys(names) as CpuGroup[]).filter((g) => !(shares[g] < 0.005))
    .map((g) => `${names[g]} ${share(shares[g])}${g === 'api' && shares.apiMain !== undefined ? ` (main thread ${share(shares.apiMain)})` : ''}`).join(', ');
}
