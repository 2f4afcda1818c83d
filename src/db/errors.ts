/**
 * PostgreSQL's own errors as the two drivers report them: postgres.js names
 * the violated constraint `constraint_name`, PGlite (like pg) `constraint`.
 */
interface DriverError {
  code?: string;
  constraint?: string;
  constraint_name?: string;
}

/** The name of the unique index or constraint a 23505 error violated ('' when the driver did not say); null for any other error. */
export function uniqueViolation(error: unknown): string | null {
  const e = error as DriverError | null;
  return e?.code === '23505' ? (e.constraint_name ?? e.constraint ?? '') : null;
}
