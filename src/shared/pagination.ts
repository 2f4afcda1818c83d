import { AppError } from './errors.js';

/**
 * Keyset (cursor) pagination: the cursor holds the sort key and id of the last
 * row served, so pages stay free of duplicates and gaps while rows are
 * inserted, and every page costs one index range scan (no OFFSET).
 */
export type CursorValue = string | number | null;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, length: number): CursorValue[] | null {
  if (!cursor) return null;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === length && values.every((v) => v === null || ['string', 'number'].includes(typeof v))) {
      return values as CursorValue[];
    }
  } catch {
    // fall through to the one answer for every bad cursor
  }
  throw new AppError('VALIDATION_FAILED', 422, 'The cursor is not valid; start again without it.', { errors: [{ path: '/query/cursor', message: 'is not a valid cursor' }] });
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
