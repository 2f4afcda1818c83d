import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../../shared/errors.js';

export interface SendLimitSettings {
  perPhoneHour: number;
  perPhoneDay: number;
  perIpHour: number;
  smsBudgetHour: number;
}

/**
 * Business limits on one-time-code sends, against SMS pumping (toll fraud)
 * and harassment: per phone per hour and per day, per client address per
 * hour, and a global hourly SMS budget. Requests are counted whether or not a
 * code goes out, so the limits reveal nothing about which phones are
 * registered; the budget counts only real sends. Shared through Redis when
 * configured, so they hold across instances.
 */
export class OtpSendLimits {
  private readonly perPhoneHour: RateLimiterAbstract;
  private readonly perPhoneDay: RateLimiterAbstract;
  private readonly perIpHour: RateLimiterAbstract;
  private readonly budget: RateLimiterAbstract;

  constructor(settings: SendLimitSettings, redis: Redis | null, prefix: string) {
    const make = (keyPrefix: string, points: number, duration: number) =>
      redis
        ? new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}otp-send:${keyPrefix}`, points, duration, useRedisPackage: false })
        : new RateLimiterMemory({ keyPrefix, points, duration });
    this.perPhoneHour = make('phone-h', settings.perPhoneHour, 3600);
    this.perPhoneDay = make('phone-d', settings.perPhoneDay, 86_400);
    this.perIpHour = make('ip-h', settings.perIpHour, 3600);
    this.budget = make('budget', settings.smsBudgetHour, 3600);
  }

  async claimRequest(phone: string, ip: string | null): Promise<void> {
    await this.consume(this.perPhoneHour, phone, 'Too many codes for this phone; try again later.');
    await this.consume(this.perPhoneDay, phone, 'Too many codes for this phone today; try again tomorrow.');
    if (ip) await this.consume(this.perIpHour, ip, 'Too many codes requested from this address; try again later.');
  }

  async claimSend(): Promise<void> {
    await this.consume(this.budget, 'global', 'Messages are briefly unavailable; try again later.');
  }

  private async consume(limiter: RateLimiterAbstract, key: string, detail: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) throw new AppError('RATE_LIMITED', 429, detail, { retryAfterS: Math.ceil(outcome.msBeforeNext / 1000) });
      throw outcome;
    }
  }
}
