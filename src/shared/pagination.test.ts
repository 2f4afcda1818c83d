import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { decodeCursor, decodeSortedCursor, encodeCursor } from './pagination.js';

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return error instanceof AppError && error.status === 422;
  }
  return false;
};
const UUID = '019a1b2c-3d4e-7f60-8a9b-0c1d2e3f4a5b';

describe('decodeCursor', () => {
  it('gives back what encodeCursor wrote, in both timestamp spellings our cursors use', () => {
    const values = ['2026-11-26 23:32:20.160123+00', UUID];
    expect(decodeCursor(encodeCursor(values), ['timestamp', 'uuid'])).toEqual(values);
    expect(decodeCursor(encodeCursor(['2026-11-26T23:32:20.160Z', UUID]), ['timestamp', 'uuid'])).toEqual(['2026-11-26T23:32:20.160Z', UUID]);
    expect(decodeCursor(encodeCursor([1234]), ['integer'])).toEqual([1234]);
    expect(decodeCursor(encodeCursor(['IN/MH/']), ['text'])).toEqual(['IN/MH/']);
    expect(decodeCursor(undefined, ['integer'])).toBeNull();
  });

  it('refuses, with a 422, a value of the wrong kind that PostgreSQL would have refused with a 500', () => {
    for (const [values, kinds] of [
      [['abc'], ['integer']],
      [[1.5], ['integer']],
      [['2026-02-31 00:00:00+00', UUID], ['timestamp', 'uuid']],
      [['2026-13-01T00:00:00Z', UUID], ['timestamp', 'uuid']],
      [['2026-01-01T24:00:00Z', UUID], ['timestamp', 'uuid']],
      [['yesterday', UUID], ['timestamp', 'uuid']],
      [['2026-01-01T00:00:00Z', 'not-a-uuid'], ['timestamp', 'uuid']],
      [[1, 2], ['timestamp', 'uuid']],
      [[null], ['text']],
      [['x'.repeat(1001)], ['text']],
      [['a', UUID, 'extra'], ['text', 'uuid']],
    ] as const) {
      expect(refused(() => decodeCursor(encodeCursor([...values]), kinds)), JSON.stringify(values)).toBe(true);
    }
    expect(refused(() => decodeCursor('not base64 json', ['text']))).toBe(true);
  });
});

describe('decodeSortedCursor', () => {
  it('gives the key and id of a cursor of the same order, and refuses one of another order', () => {
    const cursor = encodeCursor(['-created_at', '2026-11-26 23:32:20+00', UUID]);
    expect(decodeSortedCursor(cursor, { field: 'created_at', direction: 'desc' })).toEqual(['2026-11-26 23:32:20+00', UUID]);
    expect(refused(() => decodeSortedCursor(cursor, { field: 'full_name', direction: 'asc' }))).toBe(true);
    expect(refused(() => decodeSortedCursor(encodeCursor(['-created_at', 'Meera', UUID]), { field: 'created_at', direction: 'desc' }))).toBe(true);
  });
});
