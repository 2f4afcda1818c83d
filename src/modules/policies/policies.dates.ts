/**
 * Calendar dates of a policy (`YYYY-MM-DD`). Policy dates are Indian calendar
 * dates, so "today" is taken in Asia/Kolkata, not UTC: a policy issued at
 * 02:00 IST on 1 April starts on 1 April, although UTC still says 31 March.
 * Arithmetic is plain y/m/d (JS Date would drag time zones in); a day past the
 * end of a month is clamped to its last day (31 Jan + 1 month = 28/29 Feb).
 */
import type { PremiumMode } from '../../db/types.js';

export { kolkataDate } from '../../shared/clock.js';

export const MONTHS_PER_INSTALMENT: Readonly<Record<PremiumMode, number>> = { annual: 12, half_yearly: 6, quarterly: 3, monthly: 1 };

function parts(date: string): [number, number, number] {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return [year, month, day];
}

function format(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function addMonths(date: string, months: number): string {
  const [year, month, day] = parts(date);
  const index = year * 12 + (month - 1) + months;
  const newYear = Math.floor(index / 12);
  const newMonth = (index % 12) + 1;
  return format(newYear, newMonth, Math.min(day, daysInMonth(newYear, newMonth)));
}

export function addYears(date: string, years: number): string {
  return addMonths(date, years * 12);
}

export function addDays(date: string, days: number): string {
  const [year, month, day] = parts(date);
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

export function yearOf(date: string): number {
  return parts(date)[0];
}

/** Grace after a missed due date (DOMAIN.md): 15 days for monthly premiums, 30 otherwise. */
export function graceDays(mode: PremiumMode): number {
  return mode === 'monthly' ? 15 : 30;
}

export interface DueDates {
  next_due_date: string;
  grace_end_date: string;
}

/**
 * The first instalment date of the schedule (start date + whole mode periods)
 * that falls after `after`, and the end of its grace period. Always measured
 * from the start date, so dates never drift through month-end clamping.
 */
export function nextDueDates(startDate: string, mode: PremiumMode, after: string): DueDates {
  const step = MONTHS_PER_INSTALMENT[mode];
  let periods = 1;
  while (addMonths(startDate, step * periods) <= after) periods += 1;
  const next = addMonths(startDate, step * periods);
  return { next_due_date: next, grace_end_date: addDays(next, graceDays(mode)) };
}
