import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kolkataDate, toIso } from './clock.js';

describe('toIso', () => {
  it('writes UTC to the second, from a Date or a string', () => {
    expect(toIso(new Date('2026-11-25T10:00:00.999Z'))).toBe('2026-11-25T10:00:00Z');
    expect(toIso('2026-11-25T15:30:00+05:30')).toBe('2026-11-25T10:00:00Z');
    expect(toIso(new Date('0001-01-01T00:00:00.000Z'))).toBe('0001-01-01T00:00:00Z');
  });

  it('keeps the extended form of years past 9999', () => {
    expect(toIso(new Date('+010000-01-01T00:00:00.000Z'))).toBe('+010000-01-01T00:00:00Z');
    expect(toIso(new Date('0999-12-31T23:59:59.999Z'))).toBe('0999-12-31T23:59:59Z');
  });

  it('is toISOString() without the milliseconds, for any instant', () => {
    fc.assert(fc.property(fc.date({ noInvalidDate: true }), (date) => {
      expect(toIso(date)).toBe(date.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    }), { numRuns: 5000 });
  });
});

describe('kolkataDate', () => {
  const intl = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' });

  it('turns at midnight in India, 18:30 UTC, also when asked about the same minute again', () => {
    expect(kolkataDate(new Date('2026-03-31T18:29:00Z'))).toBe('2026-03-31');
    expect(kolkataDate(new Date('2026-03-31T18:29:59.999Z'))).toBe('2026-03-31');
    expect(kolkataDate(new Date('2026-03-31T18:30:00Z'))).toBe('2026-04-01');
    expect(kolkataDate(new Date('2026-03-31T18:29:30Z'))).toBe('2026-03-31');
  });

  it('does not reuse a minute\'s answer before 1906, when the local offset (Madras time, +05:21:10) had seconds', () => {
    // Midnight in India on 2 January 1900 fell at 18:38:50 UTC: two instants of one UTC minute straddle it.
    const before = new Date('1900-01-01T18:38:40Z');
    const after = new Date('1900-01-01T18:38:55Z');
    expect(intl.format(before)).not.toBe(intl.format(after));
    expect([kolkataDate(before), kolkataDate(after)]).toEqual([intl.format(before), intl.format(after)]);
  });

  it('is what Intl says for Asia/Kolkata at any instant, in any order of asking (wartime +06:30 and local mean times included)', () => {
    const instant = fc.oneof(
      fc.date({ noInvalidDate: true, min: new Date('1850-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z') }),
      // Close to midnight in India, on either side of the turn.
      fc.tuple(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -90_000, max: 90_000 }))
        .map(([day, ms]) => new Date(Date.UTC(2026, 0, 1) + day * 86_400_000 - 19_800_000 + ms)),
    );
    fc.assert(fc.property(fc.array(instant, { minLength: 1, maxLength: 5 }), (instants) => {
      for (const at of instants) expect(kolkataDate(at)).toBe(intl.format(at));
    }), { numRuns: 3000 });
  });
});

