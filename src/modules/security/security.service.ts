import type { Kysely } from 'kysely';
import type { DB, Severity } from '../../db/types.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { KeyValueStore } from '../../shared/kv-store.js';
import type { AlertSink } from './security.alerts.js';

export interface SecurityThresholds {
  /** Failed sign-ins from one address (any accounts) within the window before it is blocked. */
  stuffingFailures: number;
  stuffingWindowS: number;
  blockS: number;
  /** 403 answers to one user within the window before it is reported. */
  forbiddenCount: number;
  forbiddenWindowS: number;
}

export const DEFAULT_THRESHOLDS: SecurityThresholds = { stuffingFailures: 30, stuffingWindowS: 900, blockS: 900, forbiddenCount: 10, forbiddenWindowS: 600 };

/**
 * Intrusion detection over signals the rest of the service reports:
 * credential stuffing (many failed sign-ins from one address across accounts)
 * blocks that address for a while; refresh-token reuse, OTP brute force,
 * repeated 403s and sign-ins from a new device are recorded and alerted.
 * Counters live in the KV store, so they hold across instances with Redis.
 */
export class SecurityService {
  constructor(
    readonly database: Kysely<DB>,
    private readonly kv: KeyValueStore,
    private readonly clock: Clock,
    private readonly sink: AlertSink,
    private readonly thresholds: SecurityThresholds = DEFAULT_THRESHOLDS,
  ) {}

  async assertAddressAllowed(ip: string | null): Promise<void> {
    if (!ip || !(await this.kv.exists(`sec:block:${ip}`))) return;
    throw new AppError('RATE_LIMITED', 429, 'Too many failed sign-ins from this address; try again later.', { retryAfterS: this.thresholds.blockS });
  }

  async onLoginFailure(ip: string | null, userId: string | null): Promise<void> {
    if (!ip) return;
    const count = await this.kv.incr(`sec:fail:${ip}`, this.thresholds.stuffingWindowS);
    if (count === this.thresholds.stuffingFailures) {
      await this.kv.set(`sec:block:${ip}`, '1', this.thresholds.blockS);
      await this.record('credential_stuffing', 'high', { ip, userId, details: { failures: count, window_s: this.thresholds.stuffingWindowS, blocked_s: this.thresholds.blockS } });
    }
  }

  async onForbidden(userId: string, ip: string | null, route: string): Promise<void> {
    const count = await this.kv.incr(`sec:403:${userId}`, this.thresholds.forbiddenWindowS);
    if (count === this.thresholds.forbiddenCount) await this.record('repeated_forbidden', 'medium', { ip, userId, details: { count, last_route: route } });
  }

  async onNewDevice(userId: string, ip: string | null, userAgent: string | null): Promise<void> {
    await this.record('new_device_sign_in', 'low', { ip, userId, details: { user_agent: userAgent } });
  }

  async record(kind: string, severity: Severity, at: { ip: string | null; userId: string | null; details?: unknown }): Promise<void> {
    const now = this.clock.now();
    const event = { id: newId(now.getTime()), kind, severity, occurred_at: now, user_id: at.userId, ip_address: at.ip, details: at.details ?? null };
    await this.database.insertInto('security_events').values({ ...event, details: JSON.stringify(event.details) }).execute();
    this.sink.send({ ...event, occurred_at: now.toISOString() });
  }
}
