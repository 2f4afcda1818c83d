import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import { symbols } from 'pino';

/**
 * A request's log fields (request id, route pattern, user) are kept on its
 * logger as a plain object and written into each line by pino's mixin, only
 * when a line is written. pino bindings would do the same eagerly: every
 * binding is serialized, through the redaction paths, when it is set. That
 * was 9% of the API's CPU on a cached read, for lines that at LOG_LEVEL=warn
 * are almost never written. The fields are ours (ids and a route pattern),
 * and a written line is redacted as a whole, mixin fields included.
 */
const CONTEXT = Symbol('bima.requestLogContext');

type WithContext = FastifyBaseLogger & { [CONTEXT]?: Readonly<Record<string, string>> };

/** Made by createLogger, so its lines get the request's fields through requestLogMixin. */
const hasRequestMixin = (logger: unknown) => (logger as Record<symbol, unknown>)[symbols.mixinSym] === requestLogMixin;

/** Adds fields to every later line of the request's log. */
export function bindRequestLog(log: FastifyBaseLogger, bindings: Record<string, string>): FastifyBaseLogger {
  if (!hasRequestMixin(log)) {
    // Another logger: onto the same instance (Fastify's reply.log is that instance), eagerly, as pino does.
    const settable = log as FastifyBaseLogger & { setBindings?: (bindings: Record<string, string>) => void };
    if (typeof settable.setBindings !== 'function') return log.child(bindings);
    settable.setBindings(bindings);
    return log;
  }
  const logger = log as WithContext;
  logger[CONTEXT] = { ...logger[CONTEXT], ...bindings };
  return log;
}

/** pino's `mixin`: the request's fields for a line being written (a copy: pino merges the line into it). */
export function requestLogMixin(_line: object, _level: number, logger: unknown): Record<string, string> {
  const context = (logger as WithContext)[CONTEXT];
  return context ? { ...context } : {};
}

/**
 * Fastify's `childLoggerFactory`: the request's own logger, its request id
 * kept as a mixin field, not a binding. A logger without requestLogMixin (one
 * not made by createLogger) gets Fastify's usual child with bindings.
 */
export const requestChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) => {
  if (!hasRequestMixin(logger)) return logger.child(bindings, options);
  const child = logger.child({}, options) as WithContext;
  child[CONTEXT] = { ...(bindings as Record<string, string>) };
  return child;
};
