import { setTimeout as sleep } from 'node:timers/promises';
import autocannon, { type RequestSpec } from 'autocannon';
import { startCpuAccounting, type CpuShares } from './cpu.js';
import { startSampler, type ServerSamples } from './sampler.js';

/** What one autocannon run measured; latencies are of 2xx answers only, in milliseconds. */
export interface Measurement {
  name: string;
  connections: number;
  durationS: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  okRps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  statusCodes: Record<string, number>;
  notes: string[];
  server?: ServerSamples;
  /** Cores used per process group during the measured run (see cpu.ts). */
  cpu?: CpuShares;
  /** Login only: the raw argon2id verify rate (2 in flight) measured just before it, with the API idle. */
  rawVerifyPerSecond?: number;
  /** Login only: CPU milliseconds per verify in that raw measurement. */
  rawVerifyCpuMs?: number;
  /**
   * Connections that had at least one answer during the measured run. A
   * saturated Node server accepts about one new connection per turn of its
   * event loop, so at 1000 connections some wait in the kernel's accept queue
   * for most of a run: the latencies are those of the connections served.
   */
  answered?: number;
}

export interface LoadSpec {
  name: string;
  url: string;
  connections: number;
  durationS: number;
  warmupS: number;
  requests: RequestSpec[];
  /** Filled while the run lasts (e.g. "token pool exhausted"), copied into the measurement. */
  notes?: string[];
  /** The API's /metrics, polled during the measured run (not the warm-up). */
  metricsUrl?: string;
}

/**
 * Latency histogram with 0.05 ms buckets up to 30 s (plus one overflow
 * bucket): fixed memory whatever the request count, and percentiles exact to
 * the bucket. autocannon's own histogram has no p95, which the issue asks for.
 */
export class LatencyHistogram {
  private static readonly RESOLUTION_MS = 0.05;
  private readonly buckets = new Uint32Array(600_001);
  count = 0;
  max = 0;

  record(ms: number): void {
    const index = Math.min(this.buckets.length - 1, Math.floor(ms / LatencyHistogram.RESOLUTION_MS));
    this.buckets[index]! += 1;
    this.count += 1;
    if (ms > this.max) this.max = ms;
  }

  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return (i + 1) * LatencyHistogram.RESOLUTION_MS;
    }
    return this.max;
  }
}

/**
 * Runs autocannon once and summarises it. The warm-up is a separate, uncounted
 * run followed by a pause, so work it left queued in the server (sign-ins
 * waiting for a hash) has drained before the measurement starts.
 */
export async function runLoad(spec: LoadSpec): Promise<Measurement> {
  if (spec.warmupS > 0) {
    await autocannon({ url: spec.url, connections: Math.min(spec.connections, 50), duration: spec.warmupS, timeout: 30, requests: spec.requests });
    await sleep(2000);
  }
  const histogram = new LatencyHistogram();
  const sampler = spec.metricsUrl ? startSampler(spec.metricsUrl) : null;
  const cpuAccounting = startCpuAccounting();
  const instance = autocannon({ url: spec.url, connections: spec.connections, duration: spec.durationS, timeout: 30, requests: spec.requests });
  const answered = new Set<unknown>();
  instance.on('response', (client: unknown, statusCode: number, _bytes: number, ms: number) => {
    answered.add(client);
    if (statusCode >= 200 && statusCode < 300) histogram.record(ms);
  });
  const result = await instance;
  const cpu = cpuAccounting.stop();
  const server = await sampler?.stop();
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  const durationS = result.duration || spec.durationS;
  const ok = result['2xx'];
  const requests = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    name: spec.name,
    connections: spec.connections,
    durationS,
    requests,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: requests / durationS,
    okRps: ok / durationS,
    p50: histogram.percentile(50),
    p95: histogram.percentile(95),
    p99: histogram.percentile(99),
    max: histogram.max,
    statusCodes,
    answered: answered.size,
    notes: [...(spec.notes ?? [])],
    ...(server ? { server } : {}),
    cpu,
  };
}

// Real clients send a user agent; the sessions the bench inserts carry the same one, so sign-ins are not "new devices".
const USER_AGENT = { 'user-agent': 'bima-bench' };

/** A request spec whose every request takes the next item of `items` (round robin, shared by all connections). */
export function rotating<T>(items: readonly T[], build: (item: T) => { method: string; path: string; headers?: Record<string, string>; body?: string }): RequestSpec[] {
  if (items.length === 0) throw new Error('rotating(): no items to send');
  let next = 0;
  return [{
    setupRequest: (request) => {
      const item = items[next % items.length]!;
      next += 1;
      const built = build(item);
      return { ...request, method: built.method, path: built.path, headers: { ...USER_AGENT, ...built.headers }, body: built.body ?? '' };
    },
  }];
}

/** Like rotating(), but each item is used once; past the end `onExhausted` builds the request (and is told so once). */
export function consuming<T>(items: readonly T[], build: (item: T) => { method: string; path: string; headers?: Record<string, string>; body?: string },
  onExhausted: () => { method: string; path: string; headers?: Record<string, string>; body?: string }, notes: string[]): RequestSpec[] {
  let next = 0;
  return [{
    setupRequest: (request) => {
      let built;
      if (next < items.length) built = build(items[next]!);
      else {
        if (next === items.length) notes.push(`item pool of ${items.length} exhausted; later requests were sent with an invalid item`);
        built = onExhausted();
      }
      next += 1;
      return { ...request, method: built.method, path: built.path, headers: { ...USER_AGENT, ...built.headers }, body: built.body ?? '' };
    },
  }];
}
