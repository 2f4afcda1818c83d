import cluster from 'node:cluster';
import { buildApp, createLogger } from './app.js';
import { ensureBootstrapAdmin } from './bootstrap.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { schedulePurge } from './db/maintenance.js';
import { seedDemoData } from './db/seed.js';
import { createInfrastructure } from './infrastructure.js';
import { RespawnBackoff } from './shared/respawn.js';

/** Process entry: configuration, infrastructure, app, listen; and a clean exit on SIGTERM/SIGINT. */
async function start(config: Config): Promise<void> {
  const startedAt = performance.now();
  const infra = await createInfrastructure(config, createLogger(config));
  const app = await buildApp(config, infra);
  const { hasher } = app.services;
  if (config.BOOTSTRAP_ADMIN_PHONE && config.BOOTSTRAP_ADMIN_PASSWORD) {
    const outcome = await ensureBootstrapAdmin(infra.database.db, hasher, infra.clock, config.BOOTSTRAP_ADMIN_PHONE, config.BOOTSTRAP_ADMIN_PASSWORD);
    app.log.info({ outcome }, 'bootstrap admin');
  }
  if (config.SEED_DEMO_DATA && (cluster.isPrimary || cluster.worker?.id === 1)) {
    const seeded = await seedDemoData(infra.database.db, hasher, infra.clock);
    if (seeded) app.log.info('demo data seeded: see README for the demo accounts');
  }
  const stopPurge = schedulePurge(infra.database.db, 3_600_000, (result) =>
    result instanceof Error ? app.log.warn({ err: result }, 'purge of expired rows failed') : app.log.info({ purged: result }, 'expired rows purged'));
  await app.listen({ port: config.PORT, host: config.HOST });
  app.log.info({ ready_ms: Math.round(performance.now() - startedAt), database: infra.database.kind, redis: infra.kv.kind }, 'ready');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const timer = setTimeout(() => {
      app.log.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    stopPurge();
    // Keep-alive connections with no request in flight would hold close() open until the timeout:
    // close them now, and again as in-flight requests finish and leave theirs idle.
    const idleSweep = setInterval(() => app.server.closeIdleConnections(), 100);
    app.server.closeIdleConnections();
    await app.close();
    clearInterval(idleSweep);
    await infra.database.close();
    await infra.kv.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function main(): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`bima-api: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const workers = config.WEB_CONCURRENCY;
  if (workers > 1 && cluster.isPrimary) {
    if (config.DATABASE_URL.startsWith('pglite://')) {
      process.stderr.write('bima-api: Invalid environment variable WEB_CONCURRENCY: embedded PGlite serves one process; use PostgreSQL for several workers\n');
      process.exit(78);
    }
    const bornAt = new Map<number, number>();
    const fork = () => bornAt.set(cluster.fork().id, performance.now());
    for (let i = 0; i < workers; i++) fork();
    let stopping = false;
    const backoff = new RespawnBackoff();
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      // A worker that dies unexpectedly is replaced, so capacity does not erode silently; one whose start
      // keeps failing, after a growing delay.
      const delayMs = backoff.next(performance.now() - (bornAt.get(worker.id) ?? 0));
      bornAt.delete(worker.id);
      process.stderr.write(`worker ${worker.process.pid} exited (${signal ?? code}); starting a replacement${delayMs ? ` in ${delayMs / 1000} s` : ''}\n`);
      setTimeout(() => stopping || fork(), delayMs);
    });
    const stop = () => {
      stopping = true;
      Object.values(cluster.workers ?? {}).forEach((w) => w?.process.kill('SIGTERM'));
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return;
  }
  start(config).catch((error: unknown) => {
    process.stderr.write(`bima-api failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

main();
