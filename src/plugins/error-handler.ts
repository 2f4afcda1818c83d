import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, titleForStatus, type ErrorCode, type FieldError } from '../shared/errors.js';

const PROBLEM_BASE = 'https://bima.example/problems/';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params?: Record<string, unknown>;
}

/**
 * The one place errors become answers: RFC 9457 problem details with a stable
 * code. Anything unexpected is logged with the request id and shown to the
 * client as a bare 500; no stack, SQL or path ever leaves the process.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfterS !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfterS))));
  if (error.headers) reply.headers(error.headers);
  return reply
    .code(error.status)
    .type('application/problem+json')
    .send({
      type: PROBLEM_BASE + error.code.toLowerCase().replaceAll('_', '-'),
      title: titleForStatus(error.status),
      status: error.status,
      detail: error.detail,
      code: error.code,
      request_id: String(request.id),
      ...(error.errors ? { errors: error.errors } : {}),
    });
}

export function toAppError(error: FastifyError | AppError | Error): AppError | null {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError & { validationContext?: string; validation?: ValidationIssue[] };
  if (fe.validation) return fromValidation(fe.validation, fe.validationContext ?? 'body');
  const byCode = FASTIFY_CODES[fe.code ?? ''];
  if (byCode) return new AppError(byCode[0], byCode[1], byCode[2]);
  if (fe.statusCode === 429) return new AppError('RATE_LIMITED', 429, 'Too many requests; slow down.');
  if (error instanceof SyntaxError && fe.statusCode === 400) return new AppError('MALFORMED_JSON', 400, 'The body is not valid JSON.');
  if (isPoolExhausted(error)) return new AppError('SERVICE_UNAVAILABLE', 503, 'The service is busy; try again shortly.', { retryAfterS: 2 });
  if (isDatabaseUnavailable(error)) return new AppError('SERVICE_UNAVAILABLE', 503, 'The database is unavailable; try again shortly.', { retryAfterS: 5 });
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return new AppError('BAD_REQUEST', fe.statusCode, 'The request could not be processed.');
  return null;
}

const FASTIFY_CODES: Record<string, [ErrorCode, number, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 415, 'Send JSON with Content-Type: application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['BAD_REQUEST', 400, 'Content-Length does not match the body.'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 413, 'The body is larger than this endpoint accepts.'],
  FST_REQ_FILE_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 413, 'The file is larger than this endpoint accepts.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['MALFORMED_JSON', 400, 'The body is empty; send a JSON object.'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['MALFORMED_JSON', 400, 'The body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 415, 'Send a Content-Type header.'],
  FST_ERR_CTP_INVALID_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 415, 'Send a valid Content-Type header.'],
  FST_ERR_BAD_URL: ['NOT_FOUND', 404, 'No such resource.'],
  FST_ERR_ASYNC_CONSTRAINT: ['BAD_REQUEST', 400, 'The request could not be routed.'],
};

// Socket errors, PostgreSQL's shutdown and connection-failure codes, and postgres.js's own for a lost or unreachable server.
const DB_DOWN_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006',
  'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'CONNECTION_ENDED',
]);

/** No connection free for a transaction within the wait bound (PoolExhaustedError): load to shed, not an outage. */
export function isPoolExhausted(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'POOL_EXHAUSTED';
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code !== undefined && DB_DOWN_CODES.has(code);
}

function fromValidation(issues: ValidationIssue[], context: string): AppError {
  if (context === 'params') return new AppError('NOT_FOUND', 404, 'No such resource.');
  const prefix = context === 'body' ? '' : `/${context === 'querystring' ? 'query' : context}`;
  // TypeBox reports an unknown field twice: as `additionalProperties` on the object and as
  // `schema is false` on the field itself; the first says it better, so the echo is dropped.
  const errors: FieldError[] = issues.filter((issue) => issue.keyword !== 'boolean').slice(0, 20).map((issue) => describeIssue(issue, prefix));
  return new AppError('VALIDATION_FAILED', 422, 'The request is not valid.', { errors });
}

function describeIssue(issue: ValidationIssue, prefix: string): FieldError {
  const base = prefix + issue.instancePath;
  const params = issue.params ?? {};
  if (issue.keyword === 'additionalProperties') {
    const names = (params.additionalProperties as string[] | undefined) ?? [String(params.additionalProperty ?? '')];
    return { path: `${base}/${names.join(',')}`, message: 'is not an accepted field' };
  }
  if (issue.keyword === 'required') {
    const names = (params.requiredProperties as string[] | undefined) ?? [String(params.missingProperty ?? '')];
    return { path: `${base}/${names.join(',')}`, message: 'is required' };
  }
  return { path: base || '/', message: issue.message ?? 'is not valid' };
}

export default fp(
  async function errorHandlerPlugin(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const known = toAppError(error);
      if (known) {
        // One line per refusal, without a stack: under overload these come by the thousand.
        if (known.status >= 500 && !known.quiet) request.log.warn({ code: known.code, reason: error.message }, 'request refused: service unavailable');
        return sendProblem(request, reply, known);
      }
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(request, reply, new AppError('INTERNAL', 500, 'Something went wrong on our side; the request id identifies it.'));
    });
    app.setNotFoundHandler((request, reply) => sendProblem(request, reply, new AppError('NOT_FOUND', 404, 'No such resource.')));
  },
  { name: 'error-handler' },
);
