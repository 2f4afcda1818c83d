import type { FastifyBaseLogger } from 'fastify';

/**
 * Adds fields to every later line of a request's log. Fastify gives each
 * request its own pino child already, so the fields go onto that child
 * (setBindings) instead of a further child per hook: a child per request per
 * hook was 4% of the event loop on a cached read. Loggers without setBindings
 * (none configured) get a child, as before.
 */
export function bindRequestLog(log: FastifyBaseLogger, bindings: Record<string, string>): FastifyBaseLogger {
  const settable = log as FastifyBaseLogger & { setBindings?: (bindings: Record<string, string>) => void };
  if (typeof settable.setBindings === 'function') {
    settable.setBindings(bindings);
    return log;
  }
  return log.child(bindings);
}
