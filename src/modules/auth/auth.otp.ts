import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/config.js';
import type { DB, OtpPurpose } from '../../db/types.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { KeyValueStore } from '../../shared/kv-store.js';
import type { SmsSender } from '../../shared/sms.js';
import { consumeOtp, countOtpAttempt, findLatestOtp, insertOtp } from './auth.repository.js';
import type { OtpSendLimits } from './auth.send-limits.js';

export interface OtpTicket {
  expires_in: number;
  resend_after: number;
}

const PURPOSE_TEXT: Record<OtpPurpose, string> = {
  register: 'to verify your phone',
  login: 'to sign in',
  reset_password: 'to reset your password',
};

/**
 * One-time codes: 6 digits from a CSPRNG, kept only as an HMAC bound to the
 * phone and purpose (a `register` code never serves `login`), single use,
 * a few tries each, a cooldown between sends and an hourly cap on wrong codes
 * per phone that a new code does not reset.
 */
export class OtpService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly kv: KeyValueStore,
    private readonly sms: SmsSender,
    private readonly clock: Clock,
    private readonly config: Config,
    private readonly secret: string,
    private readonly onCapReached?: (phone: string) => Promise<void>,
    private readonly sendLimits?: OtpSendLimits,
  ) {}

  /**
   * Applies the resend cooldown for every request, sent or not, so the answer
   * never tells whether a phone is registered. `deliver` false: answer as if sent.
   */
  async issue(phone: string, purpose: OtpPurpose, deliver: boolean, ip: string | null = null): Promise<OtpTicket> {
    await this.claimCooldown(phone, purpose);
    await this.sendLimits?.claimRequest(phone, ip);
    if (deliver) {
      await this.sendLimits?.claimSend();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const now = this.clock.now();
      await insertOtp(this.db, {
        id: newId(now.getTime()),
        phone_number: phone,
        purpose,
        code_hmac: this.mac(phone, purpose, code),
        created_at: now,
        expires_at: new Date(now.getTime() + this.config.OTP_TTL_S * 1000),
      });
      const minutes = Math.round(this.config.OTP_TTL_S / 60);
      await this.sms.send({ to: phone, purpose, text: `${code} is your Bima code ${PURPOSE_TEXT[purpose]}. It expires in ${minutes} min. Never share it.` });
    }
    return this.ticket();
  }

  ticket(): OtpTicket {
    return { expires_in: this.config.OTP_TTL_S, resend_after: this.config.OTP_RESEND_S };
  }

  /** Throws INVALID_OTP for any wrong, spent, expired or missing code: one answer for all. */
  async verify(phone: string, purpose: OtpPurpose, code: string): Promise<void> {
    const failuresKey = `otp:fail:${phone}`;
    const failures = Number((await this.kv.get(failuresKey)) ?? 0);
    if (failures >= this.config.OTP_MAX_FAILURES_PER_HOUR) {
      throw new AppError('RATE_LIMITED', 429, 'Too many wrong codes for this phone; try again later.', { retryAfterS: 3600 });
    }
    const now = this.clock.now();
    const latest = await findLatestOtp(this.db, phone, purpose);
    const usable = latest && !latest.consumed_at && latest.expires_at > now && latest.attempts < this.config.OTP_MAX_ATTEMPTS;
    if (usable && this.matches(latest.code_hmac, this.mac(phone, purpose, code))) {
      if (await consumeOtp(this.db, latest.id, this.config.OTP_MAX_ATTEMPTS, now)) return;
    } else if (usable) {
      await countOtpAttempt(this.db, latest.id);
    }
    if ((await this.kv.incr(failuresKey, 3600)) === this.config.OTP_MAX_FAILURES_PER_HOUR) await this.onCapReached?.(phone);
    throw new AppError('INVALID_OTP', 401, 'The code is wrong or has expired; request a new one.');
  }

  private async claimCooldown(phone: string, purpose: OtpPurpose): Promise<void> {
    const key = `otp:cooldown:${purpose}:${phone}`;
    if (this.config.OTP_RESEND_S === 0) return;
    const count = await this.kv.incr(key, this.config.OTP_RESEND_S);
    if (count > 1) {
      throw new AppError('RATE_LIMITED', 429, 'A code was sent moments ago; wait before asking for another.', { retryAfterS: this.config.OTP_RESEND_S });
    }
  }

  private mac(phone: string, purpose: OtpPurpose, code: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}:${phone}:${code}`).digest('hex');
  }

  private matches(a: string, b: string): boolean {
    return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  }
}
