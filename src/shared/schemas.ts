import { Type, type Static, type TSchema } from 'typebox';
import { registerAjvFormats } from '@fastify/type-provider-typebox';
import { Format } from 'typebox/format';
import { isStorableInstant } from './clock.js';

/**
 * The string formats request schemas are checked against: ajv-formats' set,
 * except that date-time must also be an instant JavaScript's Date can read
 * and PostgreSQL can store (isStorableInstant). ajv-formats admits leap
 * seconds (23:59:60Z), which Date reads as Invalid Date, and years that an
 * offset carries past 9999 or before 1: such values used to pass validation
 * and then fail in the database as a 500.
 */
export function registerFormats(): void {
  registerAjvFormats();
  const isDateTime = Format.Get('date-time') ?? Format.IsDateTime;
  Format.Set('date-time', (value: string) => isDateTime(value) && isStorableInstant(value));
}

/**
 * Schema pieces used across modules. Every object schema is closed
 * (additionalProperties: false) so unknown fields are refused, never ignored.
 */
export const UuidSchema = Type.String({ format: 'uuid', description: 'A UUID.', examples: ['01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12'] });
export const TimestampSchema = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp in UTC.', examples: ['2026-11-25T10:15:00Z'] });
export const DateSchema = Type.String({ format: 'date', description: 'Calendar date YYYY-MM-DD.', examples: ['1990-04-15'] });
export const PhoneInputSchema = Type.String({
  minLength: 4,
  maxLength: 32,
  pattern: '^[0-9+()\\-. ]+$',
  description: 'A phone number in a common form; India is the default region. Returned in E.164.',
  examples: ['+91 98765 43210'],
});
export const PhoneSchema = Type.String({ description: 'E.164 phone number.', examples: ['+919876543210'] });
export const EmailSchema = Type.String({ format: 'email', maxLength: 254, description: 'An email address.', examples: ['asha@example.in'] });
export const PaiseSchema = Type.Integer({ minimum: 0, maximum: 1e13, description: 'Money in integer paise (1 INR = 100 paise).' });
/**
 * Text as our columns can hold it: no control characters (PostgreSQL refuses
 * NUL outright) and no lone UTF-16 surrogate (JSON columns refuse one, and
 * text columns would silently turn it into U+FFFD). Patterns are matched in
 * unicode mode, where a surrogate pair is one code point outside the class.
 */
export const PLAIN_TEXT_PATTERN = '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$';
/** Human-entered text: bounded, no control characters, well-formed. */
export const TextSchema = (maxLength: number, options: { minLength?: number; description?: string; examples?: unknown[] } = {}) =>
  Type.String({ minLength: options.minLength ?? 1, maxLength, pattern: PLAIN_TEXT_PATTERN, ...options });
export const NameSchema = TextSchema(120, { minLength: 2, description: 'A person\'s full name.', examples: ['Asha Verma'] });

export const IdParamsSchema = (name: string) => Type.Object({ [name]: UuidSchema }, { additionalProperties: false });

export const PaginationQuerySchema = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size, 1..100.' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9_-]+$', description: 'Opaque cursor from next_cursor.' })),
};

export const PageSchema = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last.' }),
  });

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ examples: ['https://bima.example/problems/not-found'] }),
    title: Type.String({ examples: ['Not Found'] }),
    status: Type.Integer({ examples: [404] }),
    detail: Type.String({ examples: ['Policy not found.'] }),
    code: Type.String({ examples: ['NOT_FOUND'] }),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details.' },
);
export type Problem = Static<typeof ProblemSchema>;

/** Response schemas for the problem answers a route may give, keyed by status. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('Problem')]));
}

export const NoContentSchema = Type.Null({ description: 'No content.' });

// Header schemas stay open: every request carries many other headers.
const headerValue = (description: string) => Type.Optional(Type.String({ maxLength: 256, description }));
export const IfMatchHeadersSchema = Type.Object({ 'if-match': headerValue('The ETag you read (W/"<version>"); a stale one answers 412.') });
export const IfNoneMatchHeadersSchema = Type.Object({ 'if-none-match': headerValue('The ETag you hold; answered 304 while it is current.') });
// The key's own rule (8 to 128 of A-Z a-z 0-9 _ . : -) is checked by shared/idempotency.ts; the schema keeps its length bound.
export const IdempotencyHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ maxLength: 128,
    description: '8 to 128 letters, digits or ._:-; a retry with the same key returns the first answer and creates nothing new.' })),
});
export const NotModifiedSchema = Type.Null({ description: 'Not modified: your copy (If-None-Match) is current.' });
