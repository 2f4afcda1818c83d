import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type Measurement } from './load.js';
import { ME, type Fixtures } from './scenarios.js';

export interface StormResult {
  quiet: Measurement;
  storm: Measurement;
  flood: Measurement;
  /** p95 of the reads during the storm over p95 of the reads alone. */
  p95Ratio: number;
}

export interface StormOptions {
  apiUrl: string;
  root: string;
  fixtures: Fixtures;
  readConnections: number;
  floodConnections: number;
  durationS: number;
}

/**
 * Authenticated reads (GET /auth/me) measured alone, then again while a
 * separate process floods POST /auth/login. Argon2 runs on libuv's pool, so
 * a flood should cost reads little CPU-wise; this shows whether it does.
 */
export async function measureStorm(options: StormOptions): Promise<StormResult> {
  const { apiUrl, fixtures, readConnections, durationS } = options;
  const reads = (name: string, warmupS: number) => {
    const notes: string[] = [];
    return runLoad({
      name, url: apiUrl, connections: readConnections, durationS, warmupS, requests: ME.build(fixtures, readConnections, notes), notes, metricsUrl: `${apiUrl}/metrics`,
    });
  };
  console.log(`  storm: reads alone, ${readConnections} connections, ${durationS} s`);
  const quiet = await reads('reads alone', 1);
  console.log(`  storm: reads while ${options.floodConnections} connections flood logins`);
  const floodRun = runFlood(options);
  await sleep(1500);
  const storm = await reads('reads during login storm', 0);
  const flood = await floodRun;
  return { quiet, storm, flood, p95Ratio: storm.p95 / quiet.p95 };
}

function runFlood(options: StormOptions): Promise<Measurement> {
  const task = {
    url: options.apiUrl,
    connections: options.floodConnections,
    // Outlasts the measured reads: 1.5 s head start, the reads, and a margin.
    durationS: options.durationS + 3,
    // An environment variable holds at most 128 KiB; 5000 users is plenty to rotate through.
    loginUsers: options.fixtures.loginUsers.slice(0, 5000),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/login-flood.ts'], {
    cwd: options.root,
    env: { ...process.env, BENCH_FLOOD: JSON.stringify(task) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (task.durationS + 60) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = output.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`login flood exited with ${code}`));
      resolve(JSON.parse(line) as Measurement);
    });
  });
}
