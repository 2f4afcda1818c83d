/**
 * The "login storm": password sign-ins as fast as `connections` clients can
 * send them, in its own process so the flood's load generator does not share
 * an event loop with the reads being measured. Reads its task from the
 * BENCH_FLOOD environment variable (JSON), prints one JSON line: the Measurement.
 */
import { runLoad } from './load.js';
import { SCENARIOS, type Fixtures } from './scenarios.js';

interface FloodTask {
  url: string;
  connections: number;
  durationS: number;
  loginUsers: number[];
}

async function main(): Promise<void> {
  const task = JSON.parse(process.env.BENCH_FLOOD ?? 'null') as FloodTask | null;
  if (!task || task.durationS > 600 || !task.url.startsWith('http://127.0.0.1:')) throw new Error('BENCH_FLOOD: expected {url (127.0.0.1), connections, durationS <= 600, loginUsers}');
  const login = SCENARIOS.find((s) => s.key === 'login')!;
  const fixtures: Fixtures = { userTokens: [], agentTokens: [], policyReads: [], quoteBodies: [], loginUsers: task.loginUsers, refreshTokens: new Map() };
  const notes: string[] = [];
  const measurement = await runLoad({
    name: 'login flood', url: task.url, connections: task.connections, durationS: task.durationS, warmupS: 0,
    requests: login.build(fixtures, task.connections, notes), notes,
  });
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

main().catch((error: unknown) => {
  console.error('login flood failed:', error);
  process.exit(1);
});
