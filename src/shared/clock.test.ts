import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toIso } from './clock.js';

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
