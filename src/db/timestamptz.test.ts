import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// postgresDate is the reference: the parser pg used.
import { parseTimestamptz, postgresDate, readTimestamptz } from './timestamptz.js';

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** How PostgreSQL writes an instant in a session whose UTC offset is `offsetMinutes`. */
function pgText(instantMs: number, offsetMinutes: number, fractionDigits: number, microseconds: number): string {
  const local = new Date(instantMs + offsetMinutes * 60_000);
  const fraction = `${pad(local.getUTCMilliseconds(), 3)}${pad(microseconds, 3)}`.slice(0, fractionDigits).replace(/0+$/, '');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.trunc(Math.abs(offsetMinutes) / 60))}${Math.abs(offsetMinutes) % 60 ? `:${pad(Math.abs(offsetMinutes) % 60)}` : ''}`;
  return `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction ? `.${fraction}` : ''}${offset}`;
}

describe('timestamptz parsing', () => {
  it('gives the same instant as postgres-date for any plain PostgreSQL timestamptz text', () => {
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(101, 0, 2), max: Date.UTC(9999, 11, 30) }),
      fc.constantFrom(0, 330, 345, -300, -570, 600, 840, -720),
      fc.integer({ min: 0, max: 6 }),
      fc.integer({ min: 0, max: 999 }),
      (instant, offset, fractionDigits, micro) => {
        const text = pgText(instant, offset, fractionDigits, micro);
        const ours = parseTimestamptz(text);
        expect(ours, text).not.toBeNull();
        expect(ours!.getTime(), text).toBe((postgresDate(text) as Date).getTime());
      },
    ), { numRuns: 2000 });
  });

  it('reads the forms PostgreSQL writes', () => {
    expect(parseTimestamptz('2026-11-25 10:00:00+00')!.toISOString()).toBe('2026-11-25T10:00:00.000Z');
    expect(parseTimestamptz('2026-11-25 15:30:00.123456+05:30')!.toISOString()).toBe('2026-11-25T10:00:00.123Z');
    expect(parseTimestamptz('2026-11-25 05:00:00.5-05')!.toISOString()).toBe('2026-11-25T10:00:00.500Z');
  });

  it('hands everything else to postgres-date, which gives what pg gave', () => {
    for (const text of ['infinity', '-infinity', '2026-11-25 10:00:00+00 BC', '0099-01-01 00:00:00+00', '1900-01-01 00:00:00+05:53:28', '12026-11-25 10:00:00+00']) {
      expect(parseTimestamptz(text), text).toBeNull();
      expect(readTimestamptz(text), text).toEqual(postgresDate(text));
    }
  });
});
