/**
 * The closed set of machine codes a client can see in a problem's `code`.
 * Adding a code is a contract change: clients switch on these.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'MALFORMED_JSON'
  | 'VALIDATION_FAILED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'SESSION_REVOKED'
  | 'REFRESH_TOKEN_REUSED'
  | 'INVALID_OTP'
  | 'OTP_EXPIRED'
  | 'FORBIDDEN'
  | 'PHONE_NOT_VERIFIED'
  | 'ACCOUNT_DISABLED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PHONE_TAKEN'
  | 'EMAIL_TAKEN'
  | 'CODE_TAKEN'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'INVALID_TRANSITION'
  | 'PRECONDITION_FAILED'
  | 'PRECONDITION_REQUIRED'
  | 'WEAK_PASSWORD'
  | 'BUSINESS_RULE_VIOLATED'
  | 'ACCOUNT_LOCKED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'SMS_UNAVAILABLE'
  | 'INTERNAL';

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  retryAfterS?: number;
  headers?: Record<string, string>;
  cause?: unknown;
  quiet?: boolean;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function titleForStatus(status: number): string {
  return TITLES[status] ?? 'Error';
}

/** What services throw; the one error handler turns it into an RFC 9457 problem. */
export class AppError extends Error {
  override name = 'AppError';
  readonly errors?: FieldError[];
  readonly retryAfterS?: number;
  readonly headers?: Record<string, string>;
  /** An expected refusal under load (shedding): not logged one by one. */
  readonly quiet: boolean;

  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.errors = options.errors;
    this.retryAfterS = options.retryAfterS;
    this.headers = options.headers;
    this.quiet = options.quiet ?? false;
  }
}

export const notFound = (what = 'Resource') => new AppError('NOT_FOUND', 404, `${what} not found.`);
export const forbidden = (detail = 'You are not allowed to do this.') => new AppError('FORBIDDEN', 403, detail);
export const unauthenticated = (detail = 'Sign in to continue.') => new AppError('UNAUTHENTICATED', 401, detail);
export const validationFailed = (errors: FieldError[], detail = 'The request is not valid.') =>
  new AppError('VALIDATION_FAILED', 422, detail, { errors });
export const unavailable = (detail = 'A dependency is unavailable; try again shortly.', retryAfterS = 5) =>
  new AppError('SERVICE_UNAVAILABLE', 503, detail, { retryAfterS });
