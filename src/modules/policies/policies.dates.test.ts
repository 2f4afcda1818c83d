import { describe, expect, it } from 'vitest';
import { addDays, addMonths, addYears, kolkataDate, nextDueDates } from './policies.dates.js';
import { guardRefusal } from './policies.state-machine.js';

describe('policy dates', () => {
  it('takes today in India, not in UTC', () => {
    expect(kolkataDate(new Date('2026-03-31T18:29:59Z'))).toBe('2026-03-31');
    expect(kolkataDate(new Date('2026-03-31T18:30:00Z'))).toBe('2026-04-01');
  });

  it('clamps a month-end date to the end of a shorter month', () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-08-31', -6)).toBe('2026-02-28');
    expect(addYears('2028-02-29', 1)).toBe('2029-02-28');
    expect(addDays('2026-12-20', 15)).toBe('2027-01-04');
  });

  it('gives each mode its first due date and grace (15 days monthly, 30 otherwise)', () => {
    expect(nextDueDates('2026-01-31', 'monthly', '2026-01-31')).toEqual({ next_due_date: '2026-02-28', grace_end_date: '2026-03-15' });
    expect(nextDueDates('2026-01-31', 'quarterly', '2026-01-31')).toEqual({ next_due_date: '2026-04-30', grace_end_date: '2026-05-30' });
    expect(nextDueDates('2026-01-31', 'half_yearly', '2026-01-31')).toEqual({ next_due_date: '2026-07-31', grace_end_date: '2026-08-30' });
    expect(nextDueDates('2026-01-31', 'annual', '2026-01-31')).toEqual({ next_due_date: '2027-01-31', grace_end_date: '2027-03-02' });
  });

  it('keeps a revived policy on its original schedule, from the start date', () => {
    // monthly from 31 Jan: ... 2027-02-28, 2027-03-31 (not 2027-03-28: no drift through February)
    expect(nextDueDates('2026-01-31', 'monthly', '2027-03-01').next_due_date).toBe('2027-03-31');
    expect(nextDueDates('2026-01-31', 'annual', '2027-01-31').next_due_date).toBe('2028-01-31');
  });
});

describe('transition guards', () => {
  const now = new Date('2026-05-01T10:00:00Z'); // 1 May in India

  it('allows a free-look cancellation up to the 30th day after issue, in Indian dates', () => {
    expect(guardRefusal('free_look', { issued_at: new Date('2026-03-31T18:30:00Z'), status_changed_at: now }, now)).toBeNull(); // issued 1 April IST
    expect(guardRefusal('free_look', { issued_at: new Date('2026-03-31T18:29:00Z'), status_changed_at: now }, now)).toMatch(/ended on 2026-04-30/);
    expect(guardRefusal('free_look', { issued_at: null, status_changed_at: now }, now)).not.toBeNull();
  });

  it('allows revival up to 5 years after the lapse', () => {
    expect(guardRefusal('revival_window', { issued_at: null, status_changed_at: new Date('2021-05-01T00:00:00Z') }, now)).toBeNull();
    expect(guardRefusal('revival_window', { issued_at: null, status_changed_at: new Date('2021-04-30T00:00:00Z') }, now)).toMatch(/2026-04-30/);
    expect(guardRefusal(undefined, { issued_at: null, status_changed_at: now }, now)).toBeNull();
  });
});
