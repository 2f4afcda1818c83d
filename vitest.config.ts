import { defineConfig } from 'vitest/config';

// Scale-out and outage tests need a real PostgreSQL and Redis (two instances, a cut connection):
// they run when TEST_DATABASE_URL and TEST_REDIS_URL are set, as in CI's second pass.
const realServices = Boolean(process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL);

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/security/**/*.test.ts', ...(realServices ? ['test/integration/**/*.test.ts'] : [])],
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts', 'src/server.ts', 'src/cli/**'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 80 },
    },
  },
});
