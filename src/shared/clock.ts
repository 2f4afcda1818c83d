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

export function toIso(date: Date | string): string {
  return (typeof date === 'string' ? new Date(date) : date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const KOLKATA_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar date in India at the instant `now`: business dates (ages, policy starts, licence expiry) are Indian dates. */
export function kolkataDate(now: Date): string {
  return KOLKATA_DATE.format(now);
}
