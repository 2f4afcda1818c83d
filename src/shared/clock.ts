/** The system's notion of now, injectable so tests can move time without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-11-25T10:00:00Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  set(date: Date | string): void {
    this.current = new Date(date);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** RFC 3339 to the second, UTC: '2026-11-25T10:00:00Z'. */
export function toIso(date: Date | string): string {
  const iso = (typeof date === 'string' ? new Date(date) : date).toISOString();
  // 'YYYY-MM-DDTHH:MM:SS.sssZ' for years 0-9999 (a slice, not a regular expression: this runs for every timestamp of every answer).
  return iso.length === 24 ? `${iso.slice(0, 19)}Z` : iso.replace(/\.\d{3}Z$/, 'Z');
}

const KOLKATA_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar date in India at the instant `now`: business dates (ages, policy starts, licence expiry) are Indian dates. */
export function kolkataDate(now: Date): string {
  return KOLKATA_DATE.format(now);
}
