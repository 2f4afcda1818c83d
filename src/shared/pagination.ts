import { isStorableInstant } from './clock.js';
import { PLAIN_TEXT_PATTERN } from './schemas.js';
import { AppError } from './errors.js';
import { isUuid } from './ids.js';

/**
 * Keyset (cursor) pagination: the cursor holds the sort key and id of the last
 * row served, so pages stay free of duplicates and gaps while rows are
 * inserted, and every page costs one index range scan (no OFFSET).
 */
export type CursorValue = string | number | null;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * What each value of a cursor must be. A cursor is opaque to clients but not
 * trusted: one forged or damaged is refused here with a 422, where a value of
 * the wrong kind would otherwise reach PostgreSQL as a parameter and fail
 * there (a 500).
 */
export type CursorKind = 'timestamp' | 'uuid' | 'text' | 'integer';

/** An instant as our cursors write it: ISO 8601 or PostgreSQL's timestamptz text, a real calendar date. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;

/**
 * A real calendar date and time, that JavaScript reads (some lists turn the
 * value into a Date) as an instant PostgreSQL stores: an offset of +99 or a
 * year carried past 9999 by its offset failed in one or the other (a 500).
 */
function isTimestamp(value: CursorValue): boolean {
  const m = typeof value === 'string' ? TIMESTAMP.exec(value) : null;
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60 && isStorableInstant(value as string);
}

/** Text PostgreSQL takes as a parameter: no NUL (nor other control characters, which no sort key holds) and no lone surrogate. */
const PLAIN_TEXT = new RegExp(PLAIN_TEXT_PATTERN, 'u');

const CURSOR_CHECKS: Readonly<Record<CursorKind, (value: CursorValue) => boolean>> = {
  timestamp: isTimestamp,
  uuid: (value) => typeof value === 'string' && isUuid(value),
  text: (value) => typeof value === 'string' && value.length <= 1000 && PLAIN_TEXT.test(value),
  integer: (value) => (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && /^-?\d{1,15}$/.test(value)),
};

function invalidCursor(message = 'is not a valid cursor', detail = 'The cursor is not valid; start again without it.'): AppError {
  return new AppError('VALIDATION_FAILED', 422, detail, { errors: [{ path: '/query/cursor', message }] });
}

/** The cursor's values, each of the kind given in order; null without a cursor; a 422 for anything else. */
export function decodeCursor(cursor: string | undefined, kinds: readonly CursorKind[]): CursorValue[] | null {
  if (!cursor) return null;
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(values) || values.length !== kinds.length || !kinds.every((kind, i) => CURSOR_CHECKS[kind](values[i] as CursorValue))) throw invalidCursor();
  return values as CursorValue[];
}

export interface SortOrder { field: string; direction: 'asc' | 'desc' }

/** The name a cursor records its order by: `field`, or `-field` descending. */
export function sortName(sort: SortOrder): string {
  return `${sort.direction === 'desc' ? '-' : ''}${sort.field}`;
}

/**
 * A cursor of a list with a choice of order: [sortName, key, id], the key an
 * instant when the order is by created_at and text otherwise. A cursor from
 * another order is refused rather than compared with the wrong column (which
 * would skip or repeat rows).
 */
export function decodeSortedCursor(cursor: string | undefined, sort: SortOrder): [CursorValue, CursorValue] | null {
  const values = decodeCursor(cursor, ['text', sort.field === 'created_at' ? 'timestamp' : 'text', 'uuid']);
  if (!values) return null;
  if (values[0] !== sortName(sort)) throw invalidCursor('belongs to another sort order', 'The cursor is not valid for this sort; start again without it.');
  return [values[1]!, values[2]!];
}

/** Parses `field` or `-field` against an allowlist; anything else is a 422, never SQL. */
export function parseSort<F extends string>(sort: string | undefined, allowed: readonly F[], fallback: F, fallbackDirection: 'asc' | 'desc' = 'desc'): { field: F; direction: 'asc' | 'desc' } {
  if (!sort) return { field: fallback, direction: fallbackDirection };
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const field = sort.replace(/^[-+]/, '') as F;
  if (!allowed.includes(field)) {
    throw new AppError('VALIDATION_FAILED', 422, `Sort by one of: ${allowed.join(', ')}.`, { errors: [{ path: '/query/sort', message: `must be one of ${allowed.join(', ')}, optionally prefixed by -` }] });
  }
  return { field, direction };
}

/** Takes limit+1 rows; returns the page and the cursor of its last row when more exist. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (row: T) => CursorValue[]): { items: T[]; next_cursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}

/**
 * A page whose items PostgreSQL rendered as JSON (db/json-render.ts), in
 * PageSchema's shape: the items joined as they are, the cursor encoded here.
 */
export function renderPage(items: readonly string[], nextCursor: string | null): string {
  return `{"items":[${items.join(',')}],"next_cursor":${nextCursor === null ? 'null' : JSON.stringify(nextCursor)}}`;
}
