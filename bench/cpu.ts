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
export type CpuShares = Record<CpuGroup, number>;

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

function classify(pid: number, comm: string, cmdline: string): CpuGroup | null {
  if (pid === process.pid) return 'load';
  if (comm === 'postgres') return 'postgres';
  if (comm === 'redis-server') return 'redis';
  if (cmdline.includes('reference-server')) return 'reference';
  if (cmdline.includes('src/server.')) return 'api';
  return null;
}

function snapshot(): Map<number, { group: CpuGroup; ticks: number }> {
  const seen = new Map<number, { group: CpuGroup; ticks: number }>();
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
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // comm is in parentheses and may itself hold spaces or parentheses: split after the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const group = classify(pid, comm, cmdline);
      // fields[0] is field 3 (state): utime is field 14, stime field 15.
      if (group) seen.set(pid, { group, ticks: Number(fields[11]) + Number(fields[12]) });
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
      const shares: CpuShares = { api: 0, reference: 0, postgres: 0, redis: 0, load: 0 };
      if (after.size === 0) return { api: NaN, reference: NaN, postgres: NaN, redis: NaN, load: NaN };
      for (const [pid, { group, ticks }] of after) {
        // A process born during the run counts from zero.
        shares[group] += (ticks - (before.get(pid)?.ticks ?? 0)) / TICKS_PER_SECOND / wallS;
      }
      return shares;
    },
  };
}

/** "API 0.93, reference 0, PostgreSQL 0.61, Redis 0.02, load 0.40" — groups that used nothing are left out. */
export function cpuText(shares: CpuShares): string {
  const names: Record<CpuGroup, string> = { api: 'API', reference: 'reference', postgres: 'PostgreSQL', redis: 'Redis', load: 'load' };
  return (Object.keys(names) as CpuGroup[]).filter((g) => !(shares[g] < 0.005)).map((g) => `${names[g]} ${Number.isFinite(shares[g]) ? shares[g].toFixed(2) : 'n/a'}`).join(', ');
}
