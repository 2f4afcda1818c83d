import type { Selectable } from 'kysely';
import type { UserPreferencesTable } from '../../db/types.js';
import { validationFailed } from '../../shared/errors.js';
import type { PreferencesValues } from './users.repository.js';
import type { Preferences, PreferencesBody } from './users.schemas.js';

export const DEFAULT_PREFERENCES: PreferencesValues = {
  language: 'en',
  timezone: 'Asia/Kolkata',
  notifications: { sms: true, email: true, push: true, whatsapp: true },
  quiet_hours: null,
};

const ZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
const ZONE_SHAPE = /^[A-Z][A-Za-z_-]+(\/[A-Z][A-Za-z0-9_+-]*)+$/;

/**
 * IANA zones the runtime knows. Its list holds canonical names only (Node 20
 * lists Asia/Calcutta, not Asia/Kolkata), so an IANA link is accepted when the
 * runtime resolves it to a listed zone; it is stored as the user wrote it.
 */
export function isKnownTimezone(zone: string): boolean {
  if (ZONES.has(zone)) return true;
  if (!ZONE_SHAPE.test(zone)) return false;
  try {
    return ZONES.has(new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone);
  } catch {
    return false;
  }
}

export function assertTimezone(zone: string | undefined): void {
  if (zone !== undefined && !isKnownTimezone(zone)) {
    throw validationFailed([{ path: '/timezone', message: 'is not a known IANA time zone' }], `Unknown time zone: ${zone}.`);
  }
}

type PreferencesRow = Selectable<UserPreferencesTable>;

export function currentValues(row: PreferencesRow | undefined): PreferencesValues {
  if (!row) return DEFAULT_PREFERENCES;
  return {
    language: row.language,
    timezone: row.timezone,
    notifications: { ...DEFAULT_PREFERENCES.notifications, ...row.notifications },
    quiet_hours: row.quiet_hours,
  };
}

/** The given fields over the stored ones; notification channels merge one by one. */
export function mergePreferences(current: PreferencesValues, body: PreferencesBody): PreferencesValues {
  return {
    language: body.language ?? current.language,
    timezone: body.timezone ?? current.timezone,
    notifications: { ...current.notifications, ...body.notifications },
    quiet_hours: body.quiet_hours === undefined ? current.quiet_hours : body.quiet_hours,
  };
}

export function toPreferencesResponse(userId: string, values: PreferencesValues): Preferences {
  return { user_id: userId, ...values, language: values.language as Preferences['language'] };
}
