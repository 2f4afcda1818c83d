import { setTimeout as sleep } from 'node:timers/promises';

/** What the API said about itself (GET /metrics) while a scenario ran: evidence for where time goes. */
export interface ServerSamples {
  samples: number;
  /** Database queries sent and not yet answered (db_queries_in_flight): how much waits on PostgreSQL. */
  dbInFlightMax: number;
  dbInFlightMean: number;
  /** Event-loop delay p99 as prom-client reports it, worst sample. */
  loopLagP99MaxMs: number;
}

const gauge = (text: string, name: string): number | null => {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
};

/** Polls `metricsUrl` every `intervalMs` until stopped; a poll that fails or times out is skipped. */
export function startSampler(metricsUrl: string, intervalMs = 1000) {
  let running = true;
  const waiting: number[] = [];
  let lagMax = 0;
  const loop = (async () => {
    while (running) {
      try {
        const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(intervalMs * 2), headers: { 'user-agent': 'bima-bench' } });
        const text = await response.text();
        const w = gauge(text, 'db_queries_in_flight');
        const lag = gauge(text, 'nodejs_eventloop_lag_p99_seconds');
        if (w !== null) waiting.push(w);
        if (lag !== null) lagMax = Math.max(lagMax, lag * 1000);
      } catch {
        // an overloaded server may not answer in time; that is what is being measured
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop(): Promise<ServerSamples> {
      running = false;
      await loop;
      const mean = waiting.length ? waiting.reduce((a, b) => a + b, 0) / waiting.length : Number.NaN;
      return { samples: waiting.length, dbInFlightMax: waiting.length ? Math.max(...waiting) : Number.NaN, dbInFlightMean: mean, loopLagP99MaxMs: lagMax };
    },
  };
}
